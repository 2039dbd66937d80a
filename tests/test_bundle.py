"""Bundles of a sealed demo month, opened with pypdf: pages, contents, bookmarks, text, the
embedded manifest, PDF/A-3b, and the same bytes every time."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
import typer
from pypdf import PdfReader
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.bundle import front_matter
from archive.bundle.manifest import event_id
from archive.bundle.pipeline import Bundle, bundle_volume, print_document
from archive.cli.months import register
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.kinds.registry import KINDS
from archive.queries.volumes import registry_order
from events.document import Document
from events.volume import MonthVolume, list_hash
from tests.support import FakeClock, png_bytes

MONTH = "2026-10"
TOC_ROW = re.compile(r"^(\S+) (\d{4}-\d{2}-\d{2}) (\S+) (\d+)$", re.M)
PAGE_LABEL = re.compile(r"第 (\d+) 页 / 共 (\d+) 页")
DRAWN_IMAGE = re.compile(rb"/\w+ Do\b")


@dataclass
class Sealed:
    archive: Archive
    home: Path
    volume: MonthVolume
    full: Bundle
    returned: Bundle
    photo_order: str  # the work order with a PNG scan
    amended: str  # a work order amended before the seal


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sealed]:
    """A small demo October, one off-site order and a photo added, sealed, bundled twice."""
    home = tmp_path_factory.mktemp("bundle") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    load(archive, generate(DemoSpec(month=MONTH, work_orders=20)))
    commands.file_document(
        archive,
        "offsite_service",
        {
            "number": "FW-0001",
            "business_date": "2026-10-21",
            "place": "京承高速 K23 服务区",
            "technicians": ["zheng.jianguo"],
            "handheld_terminal_id": "HT-07",
            "fault_description": "车辆无法启动，蓄电池亏电",
        },
        "li.na",
    )
    work_orders = sorted(
        d.number for d in _documents(archive) if d.kind == "work_order" and d.voided is None
    )
    photo_order = work_orders[0]
    commands.attach_scan(
        archive,
        "work_order",
        photo_order,
        io.BytesIO(png_bytes(9)),
        "li.na",
        filename="photo.png",
        label="车辆照片",
    )
    amended = next(d.number for d in _documents(archive) if d.amendment_count and not d.voided)
    volume = commands.seal_month(archive, MONTH, "ma.zhiqiang", force_reason="测试：强制封存")
    full = bundle_volume(archive, MONTH, "full")
    returned = bundle_volume(archive, MONTH, "return")
    try:
        yield Sealed(archive, home, volume, full, returned, photo_order, amended)
    finally:
        archive.close()


def _documents(archive: Archive) -> list[Document]:
    ids = {
        n.originator_id
        for n in archive.app.recorder.select_notifications(0, 100_000, inclusive_of_start=False)
        if n.topic.endswith("Document.Filed")
    }
    return [archive.app.repository.get(UUID(str(i))) for i in ids]


def _sealed_documents(sealed: Sealed) -> list[Document]:
    return [
        sealed.archive.app.repository.get(UUID(e["id"]), version=e["version"])
        for e in sealed.volume.entries
    ]


def _toc(reader: PdfReader) -> dict[str, int]:
    """Document number -> page, read from the table of contents (the pages after the cover
    up to the first document)."""
    first_document = min(p for title, p in _bookmarks(reader).items() if "\u3000" in title)
    rows: dict[str, int] = {}
    for page in reader.pages[1 : first_document - 1]:
        rows.update({m[0]: int(m[3]) for m in TOC_ROW.findall(page.extract_text())})
    return rows


def _bookmarks(reader: PdfReader) -> dict[str, int]:
    """Bookmark title -> 1-based page, every level."""
    found: dict[str, int] = {}

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found[item.title] = reader.get_destination_page_number(item) + 1

    walk(reader.outline)
    return found


# -- the full binding ------------------------------------------------------------------------


def test_full_binding_pages_contents_and_bookmarks(sealed: Sealed) -> None:
    reader = _reader(sealed.full.pdf)
    total = len(reader.pages)
    assert total == sealed.full.pages
    # Every page is numbered across the whole bundle.
    for number in (1, 2, total // 2, total):
        assert PAGE_LABEL.findall(reader.pages[number - 1].extract_text()) == [
            (str(number), str(total))
        ]
    documents = sorted(_sealed_documents(sealed), key=lambda d: registry_order(d.kind, d.number))
    assert [(e.kind, e.number) for e in sealed.full.contents] == [
        (d.kind, d.number) for d in documents
    ]
    toc = _toc(reader)
    bookmarks = _bookmarks(reader)
    assert set(toc) == {d.number for d in documents}
    for doc in documents:
        page = toc[doc.number]
        assert bookmarks[f"{doc.number}\u3000{doc.fields['business_date']}"] == page
        text = reader.pages[page - 1].extract_text()
        assert doc.number in text and KINDS[doc.kind].label in text
    # Cover, then the table of contents, then the documents in order.
    pages = [toc[d.number] for d in documents]
    assert pages == sorted(pages) and len(set(pages)) == len(pages)
    assert all(
        "目\u3000录" in reader.pages[i].extract_text().splitlines()[0]
        for i in range(1, pages[0] - 1)
    )
    # Each document runs up to the next one: its form, then its scans (a signature drawn on
    # the pad is shown in the signature block, not again as a scan). The demo's scans are
    # one-page PDFs of the paper slip, merged in right after the form.
    for doc, start, end in zip(documents, pages, [*pages[1:], total + 1], strict=True):
        drawn = {s.image_sha256 for s in doc.signatures}
        after = [s for s in doc.active_scans() if s.sha256 not in drawn]
        assert end - start >= 1 + len(after), doc.number
        if after and after[-1].media_type == "application/pdf":  # a scan is an image
            scan = _reader(sealed.archive.blobs.read(after[-1].sha256)).pages[0]
            assert _image(reader.pages[end - 2]) == _image(scan), doc.number
    kinds = {k.label for k in KINDS.values()}
    assert {t.split("（")[0] for t in bookmarks if "份）" in t} <= kinds
    assert bookmarks["封面"] == 1 and bookmarks["目录"] == 2


def _image(page) -> bytes:
    """The page's one image (a scan's PDF/A page also holds its OCR text layer, a form)."""
    xobjects = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
    (image,) = [x for x in xobjects if x["/Subtype"] == "/Image"]
    return image.get_data()


def test_a_document_page_reads_as_chinese_with_signatures_and_history(sealed: Sealed) -> None:
    reader = _reader(sealed.full.pdf)
    toc = _toc(reader)
    documents = {d.number: d for d in _sealed_documents(sealed)}
    order = documents[sealed.photo_order]
    page = reader.pages[toc[order.number] - 1]
    text = page.extract_text()
    for expected in ("维修委托书", "委托书号", "客户姓名", order.fields["customer_name"], "签字"):
        assert expected in text
    customer = next(s for s in order.current_signatures() if s.role == "customer")
    assert customer.content_hash[:12] in text
    # The customer's handwritten PNG is drawn in the signature block (pages of a rendered run
    # share one resource dictionary, so count what the page draws, not what it could).
    assert len(DRAWN_IMAGE.findall(page.get_contents().get_data())) == 1
    # The photo scan is placed on its own page after the form (its PDF/A, made by OCR),
    # with the photo itself embedded beside it.
    photo_page = reader.pages[toc[order.number]]
    (source,) = photo_page["/AF"]
    assert source.get_object()["/EF"]["/F"].get_object().get_data() == png_bytes(9)
    amended = documents[sealed.amended]
    amended_text = reader.pages[toc[amended.number] - 1].extract_text()
    assert "变更记录" in amended_text and "修改" in amended_text


def test_the_manifest_is_the_archive_state_and_the_file_is_pdf_a_3b(sealed: Sealed) -> None:
    reader = _reader(sealed.full.pdf)
    xmp = reader.trailer["/Root"]["/Metadata"].get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert reader.pdf_header == "%PDF-1.7"
    assert "/OutputIntents" in reader.trailer["/Root"]
    associated = [a.get_object()["/AFRelationship"] for a in reader.trailer["/Root"]["/AF"]]
    assert associated.count("/Data") == 1  # the manifest; the rest are scans' originals
    assert set(associated) == {"/Data", "/Source"}
    manifest = json.loads(reader.attachments["manifest.json"][0])
    assert manifest == sealed.full.manifest
    volume = sealed.volume
    assert manifest["volume"]["entries"] == volume.entries
    assert list_hash(manifest["volume"]["entries"]) == volume.list_hash
    assert manifest["volume"]["list_hash"] == volume.list_hash
    listed = {d["id"]: d for d in manifest["documents"]}
    assert set(listed) == {e["id"] for e in volume.entries}
    for entry in volume.entries:
        doc = listed[entry["id"]]
        aggregate = sealed.archive.app.repository.get(UUID(entry["id"]), version=entry["version"])
        assert (doc["version"], doc["content_hash"]) == (entry["version"], aggregate.content_hash)
        assert doc["event_id"] == event_id(entry["id"], entry["version"])
        assert [e["event_id"] for e in doc["events"]] == [
            event_id(entry["id"], v) for v in range(1, entry["version"] + 1)
        ]
    sealed_at = volume.sealed_at.astimezone(sealed.archive.settings.tz)
    assert reader.metadata["/CreationDate"].startswith(f"D:{sealed_at:%Y%m%d%H%M%S}")


def test_the_same_volume_gives_the_same_bytes(sealed: Sealed) -> None:
    first = sealed.full.pdf
    # Later changes to the archive do not reach a sealed volume.
    doc = sealed.archive.app.repository.get(Document.create_id("work_order", sealed.photo_order))
    commands.amend_document(
        sealed.archive,
        "work_order",
        sealed.photo_order,
        {"work_done": "封存后补记"},
        "测试封存后修改",
        doc.version,
        "li.na",
    )
    cached = bundle_volume(sealed.archive, MONTH, "full").pdf
    shutil.rmtree(sealed.home / "cache")
    rendered_again = bundle_volume(sealed.archive, MONTH, "full").pdf
    assert hashlib.sha256(cached).hexdigest() == hashlib.sha256(first).hexdigest()
    assert rendered_again == first


# -- the return binding, the single print, the command line ---------------------------------


def test_return_binding_holds_claims_and_off_site_orders_then_the_fees(sealed: Sealed) -> None:
    reader = _reader(sealed.returned.pdf)
    returned = [
        d
        for d in _sealed_documents(sealed)
        if d.kind in ("warranty_claim", "offsite_service") and d.voided is None
    ]
    assert {e.number for e in sealed.returned.contents} == {d.number for d in returned}
    assert [e.kind for e in sealed.returned.contents] == sorted(
        (e.kind for e in sealed.returned.contents), key=list(KINDS).index
    )
    assert "FW-0001" in _toc(reader)
    bookmarks = _bookmarks(reader)
    fees_page = reader.pages[bookmarks["服务费用汇总"] - 1].extract_text()
    claims = [d for d in returned if d.kind == "warranty_claim"]
    total = sum(Decimal(str(d.fields["service_fee"])) for d in claims)
    assert f"服务费用合计 {total:.2f} 元" in fees_page
    for claim in claims:
        assert claim.number in fees_page and f"{claim.fields['service_fee']}" in fees_page
    assert bookmarks["服务费用汇总"] == len(reader.pages)
    manifest = json.loads(reader.attachments["manifest.json"][0])
    assert manifest["binding"] == "return"
    assert {d["number"] for d in manifest["documents"]} == {d.number for d in returned}


def test_one_document_printed_alone(sealed: Sealed) -> None:
    claim = next(d for d in _sealed_documents(sealed) if d.kind == "warranty_claim")
    printed = print_document(sealed.archive, "warranty_claim", claim.number)
    reader = _reader(printed.pdf)
    current = sealed.archive.app.repository.get(claim.id)
    scans = sum(1 for s in current.active_scans() if s.media_type == "application/pdf")
    assert len(reader.pages) == printed.pages == 1 + scans
    assert claim.number in reader.pages[0].extract_text()
    assert "第 1 页 / 共" in reader.pages[0].extract_text()
    assert [o.title for o in reader.outline] == [f"三包索赔单 {claim.number}"]
    assert 'pdfaid:part="3"' in reader.trailer["/Root"]["/Metadata"].get_data().decode()
    manifest = json.loads(reader.attachments["manifest.json"][0])
    assert [(d["number"], d["version"]) for d in manifest["documents"]] == [
        (claim.number, current.version)
    ]
    assert print_document(sealed.archive, "warranty_claim", claim.number).pdf == printed.pdf


def test_bundle_and_print_on_the_command_line(sealed: Sealed, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARCHIVE_HOME", str(sealed.home))
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    out = tmp_path / "return.pdf"
    made = runner.invoke(app, ["bundle", MONTH, "--binding", "return", "-o", str(out), "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["pages"] == sealed.returned.pages
    assert out.read_bytes() == sealed.returned.pdf
    wrong = runner.invoke(app, ["bundle", MONTH, "--binding", "half", "-o", str(out)])
    assert wrong.exit_code == 2 and "return" in wrong.output
    missing = runner.invoke(app, ["bundle", MONTH, "--supplement", "1", "-o", str(out)])
    assert missing.exit_code == 1 and "2026-10 补1 尚未封存" in missing.output
    single = tmp_path / "one.pdf"
    printed = runner.invoke(app, ["print", "offsite_service", "FW-0001", "-o", str(single)])
    assert printed.exit_code == 0, printed.output
    assert "FW-0001" in _reader(single.read_bytes()).pages[0].extract_text()


def test_a_supplement_is_bound_on_its_own(sealed: Sealed) -> None:
    commands.file_document(
        sealed.archive,
        "diagnostic_sheet",
        {
            "number": "WZ-LATE-1",
            "business_date": "2026-10-31",
            "work_order_no": "WO-LATE",
            "customer_words": "怠速时方向盘抖",
            "advisor_findings": "待查发动机脚垫",
            "service_advisor": "chen.chen",
        },
        "li.na",
        unlinked_reason="委托书仍在车间，尚未录入",  # names no order the archive holds
    )
    supplement = commands.seal_month(sealed.archive, MONTH, "ma.zhiqiang", force_reason="补签中")
    assert supplement.label == "2026-10 补1"
    full = bundle_volume(sealed.archive, MONTH, "full", supplement=1)
    assert [e.number for e in full.contents] == ["WZ-LATE-1"]
    cover = _reader(full.pdf).pages[0].extract_text()
    assert "2026-10 补1" in cover and supplement.list_hash in cover.replace("\n", "")
    # Nothing in it goes back to the service centre: cover, contents, an empty fee summary.
    returned = bundle_volume(sealed.archive, MONTH, "return", supplement=1)
    reader = _reader(returned.pdf)
    assert returned.contents == [] and len(reader.pages) == 3
    assert "服务费用合计 0.00 元" in reader.pages[2].extract_text()


def test_contents_that_spill_over_are_numbered_again(sealed: Sealed, monkeypatch) -> None:
    # Were the rows per page too many to fit, the pages the contents really take are counted
    # and it is rendered again with the documents' pages moved accordingly.
    monkeypatch.setattr(front_matter, "TOC_ROWS_PER_PAGE", 1000)
    spilled = bundle_volume(sealed.archive, MONTH, "full")
    reader = _reader(spilled.pdf)
    toc, bookmarks = _toc(reader), _bookmarks(reader)
    assert len(toc) == len(spilled.contents) == len(sealed.full.contents)
    for entry in spilled.contents:
        assert toc[entry.number] == entry.page
        assert entry.number in reader.pages[entry.page - 1].extract_text()
    assert bookmarks["目录"] == 2
