"""``verify-bundle`` compares every cell of every printed form with the replayed events.

One small October is sealed by force with a claim left unsubmitted, and its return binding made
once. Each tampered copy changes one glyph of one text object on a page, the way an editor
would: the page's content stream is read, the glyph code swapped for another digit of the same
font subset, and the stream saved after the original ``%%EOF`` as an incremental update, bytes
written by hand (no PDF library writes the file). The page then shows the new value; the check
must name the document and the cell.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import typer
from pypdf import PdfReader
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.bundle.check import check_bundle, extract
from archive.bundle.check.cells import Cell
from archive.bundle.check.extract import Fragment, read_pages
from archive.bundle.check.matching import compare
from archive.bundle.pipeline import bundle_volume
from archive.cli.integrity import register
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.integrity import load_verifier
from archive.integrity.keys import VerifierKey
from tests.support import FakeClock, warranty_claim

MONTH = "2026-10"


@dataclass
class Sealed:
    archive: Archive
    pdf: bytes
    key: VerifierKey
    manifest: dict[str, Any]
    starts: dict[str, int]  # document number: the page its form starts on (1-based)
    unsubmitted: list[str]  # claims sealed unsubmitted


def _documents(archive: Archive, kind: str) -> list[Any]:
    found = []
    for n in archive.app.recorder.select_notifications(0, 100_000, inclusive_of_start=False):
        if n.topic.endswith("Document.Filed"):
            doc = archive.app.repository.get(n.originator_id)
            if doc.kind == kind:
                found.append(doc)
    return found


def _file_a_claim_left_unsubmitted(archive: Archive) -> None:
    """A claim for one of the month's work orders that nobody submits before the seal."""
    claims = _documents(archive, "warranty_claim")
    claimed = {c.fields.get("work_order_no") for c in claims}
    clerk = next(iter(archive.app.stored_events(claims[0].id))).actor  # a registered clerk
    order = next(w for w in _documents(archive, "work_order") if w.number not in claimed)
    fields = order.fields
    claim = warranty_claim(
        "SP2610-9001",
        business_date=str(fields["business_date"]),
        work_order_no=order.number,
        vin=fields["vin"],
        mileage_km=fields["mileage_km"],
        technicians=fields["technicians"],
    )
    commands.file_document(archive, "warranty_claim", claim, clerk)


def _unsubmitted_claims(archive: Archive) -> list[str]:
    claims = _documents(archive, "warranty_claim")
    return sorted(c.number for c in claims if not c.submission and not c.voided)


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sealed]:
    home = tmp_path_factory.mktemp("cells") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    load(archive, generate(DemoSpec(month=MONTH, work_orders=20)))
    _file_a_claim_left_unsubmitted(archive)
    unsubmitted = _unsubmitted_claims(archive)
    commands.seal_month(archive, MONTH, "ma.zhiqiang", force_reason="测试：强制封存")
    bundle = bundle_volume(archive, MONTH, "return")
    key = load_verifier(archive.settings)
    assert key is not None
    starts = {entry.number: entry.page for entry in bundle.contents}
    try:
        yield Sealed(archive, bundle.pdf, key, bundle.manifest, starts, unsubmitted)
    finally:
        archive.close()


# -- tampering with a page, byte by byte -------------------------------------------------------

_TJ = re.compile(rb"\[((?:[^\]\\]|\\.)*)\]\s*TJ|(<[0-9A-Fa-f]*>)\s*Tj")
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")
_TF = re.compile(rb"/([^\s/]+)\s+[\d.]+\s+Tf")


def _unicode_map(font: Any) -> dict[int, str]:
    """Glyph code -> text, from a font's ToUnicode CMap (bfchar and bfrange)."""
    cmap = font["/ToUnicode"].get_object().get_data()
    codes: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            codes[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, text in re.findall(
            rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            first = int.from_bytes(bytes.fromhex(text.decode()), "big")
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                codes[code] = chr(first + offset)
    return codes


def retyped(pdf: bytes, page: int, index: int, position: int, new: str) -> bytes:
    """``pdf`` with character ``position`` of the ``index``-th text object (0-based, as
    :func:`read_pages` lists them) of page ``page`` (1-based) drawn as the first character of
    ``new`` that its font subset has, saved as an incremental update."""
    reader = PdfReader(io.BytesIO(pdf))
    pdf_page = reader.pages[page - 1]
    contents = pdf_page.raw_get("/Contents")
    refs = list(contents.get_object()) if isinstance(contents.get_object(), list) else [contents]
    fonts = pdf_page["/Resources"]["/Font"]
    seen = 0
    for ref in refs:
        data = ref.get_object().get_data()
        for shown in _TJ.finditer(data):
            if seen < index:
                seen += 1
                continue
            font = [m for m in _TF.finditer(data, 0, shown.start())][-1].group(1).decode()
            codes = _unicode_map(fonts["/" + font].get_object())
            glyphs = [
                (m.start(1) + shown.start(shown.lastindex), m.group(1))
                for m in _HEX.finditer(shown.group(shown.lastindex))
            ]
            places = [
                (offset + 4 * i, int(hexes[4 * i : 4 * i + 4], 16))
                for offset, hexes in glyphs
                for i in range(len(hexes) // 4)
            ]
            at, old = places[position]
            replacement = next(
                code
                for character in new
                for code, text in sorted(codes.items())
                if text == character and text != codes.get(old)
            )
            edited = data[:at] + f"{replacement:04x}".encode() + data[at + 4 :]
            return _incremental_update(pdf, ref.idnum, edited)
    raise AssertionError(f"page {page} has no text object {index}")


def _incremental_update(pdf: bytes, number: int, stream: bytes) -> bytes:
    """A new revision of object ``number`` (an uncompressed stream) appended after %%EOF."""
    trailer = pdf[pdf.rindex(b"trailer") :]
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", trailer)
    size = re.search(rb"/Size\s+(\d+)", trailer)
    previous = re.search(rb"startxref\s+(\d+)", pdf[pdf.rindex(b"startxref") :])
    assert root and size and previous, "the file's last trailer is not a classic one"
    body = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    offset = len(body)
    body += b"%d 0 obj\n<< /Length %d >>\nstream\n" % (number, len(stream))
    body += stream + b"\nendstream\nendobj\n"
    xref = len(body)
    body += b"xref\n%d 1\n%010d 00000 n \n" % (number, offset)
    body += b"trailer\n<< /Size %s /Root %s /Prev %s >>\n" % (
        size.group(1),
        root.group(1),
        previous.group(1),
    )
    body += b"startxref\n%d\n%%%%EOF\n" % xref
    return body


def _fragments(pdf: bytes, page: int) -> list[str]:
    return [f.text for f in read_pages(pdf, workers=1)[page - 1].fragments]


def _after(texts: list[str], head: str, offset: int) -> int:
    """The index of the text object ``offset`` places after the first one reading ``head``."""
    return [t.strip() for t in texts].index(head) + offset


def cell_findings(pdf: bytes, key: VerifierKey) -> list[dict[str, Any]]:
    report = check_bundle(pdf, key)
    assert not report.intact
    return [f.as_dict() for f in report.findings if f.code == "printed_cell_mismatch"]


def _claim_with_a_part(sealed: Sealed) -> tuple[str, int, list[str]]:
    for number, page in sealed.starts.items():
        texts = _fragments(sealed.pdf, page)
        if number.startswith("SP") and "旧件已返回" in [t.strip() for t in texts]:
            return number, page, texts
    raise AssertionError("no claim with a replaced part")


# -- the cases of issue 15 ---------------------------------------------------------------------


def test_an_untouched_return_binding_verifies(sealed: Sealed) -> None:
    report = check_bundle(sealed.pdf, sealed.key)
    assert report.intact, [f.message_en for f in report.findings]
    assert report.printed == len(sealed.manifest["documents"])


def test_a_quantity_changed_where_the_old_digit_stands_elsewhere(sealed: Sealed) -> None:
    number, page, texts = _claim_with_a_part(sealed)
    quantity = _after(texts, "旧件已返回", 4)  # 序号, 配件号, 名称, 数量
    assert texts[quantity].strip() == "1"
    assert sum(t.count("1") for t in texts) > 1  # "1" stands elsewhere on the page
    forged = retyped(sealed.pdf, page, quantity, 0, "7")
    assert _fragments(forged, page)[quantity].strip() == "7"
    (finding,) = cell_findings(forged, sealed.key)
    assert number in finding["message_zh"]
    assert "更换配件第 1 行·数量印为“7”，应为“1”" in finding["message_zh"]


def test_a_changed_signing_time_and_signed_hash(sealed: Sealed) -> None:
    number, page, texts = _claim_with_a_part(sealed)
    at = _after(texts, "手写签名", 3)  # 角色, 签字人, 签字时间
    moment = texts[at].strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", moment)
    later = "1" if moment[-1] != "1" else "2"
    (finding,) = cell_findings(retyped(sealed.pdf, page, at, len(moment) - 1, later), sealed.key)
    assert number in finding["message_zh"] and "·签字时间印为" in finding["message_zh"]
    assert moment[:-1].replace(" ", "") + later in finding["message_zh"]

    digest = texts[at + 1].strip()
    assert re.fullmatch(r"[0-9a-f]{12}", digest)
    other = "a" if digest[0] != "a" else "b"
    (finding,) = cell_findings(retyped(sealed.pdf, page, at + 1, 0, other), sealed.key)
    assert number in finding["message_zh"] and "·所签内容摘要印为" in finding["message_zh"]


def test_a_changed_claim_number_of_the_service_centre(sealed: Sealed) -> None:
    number, page, texts = _claim_with_a_part(sealed)
    row = _after(texts, "上报服务中心", 1)
    shown = texts[row]
    assert shown.startswith("索赔号 ")
    digit = next(i for i, c in enumerate(shown) if i > 4 and c.isdigit())
    other = "3" if shown[digit] != "3" else "4"
    (finding,) = cell_findings(retyped(sealed.pdf, page, row, digit, other), sealed.key)
    assert number in finding["message_zh"] and "办理记录·上报服务中心印为" in finding["message_zh"]


def test_the_command_line_exits_1_naming_the_cell(sealed: Sealed, tmp_path: Path) -> None:
    number, page, texts = _claim_with_a_part(sealed)
    quantity = _after(texts, "旧件已返回", 4)
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(retyped(sealed.pdf, page, quantity, 0, "7"))
    app = typer.Typer()
    register(app)
    vkey = sealed.archive.settings.layout.keys / "checkpoint.vkey"
    result = CliRunner().invoke(app, ["verify-bundle", str(forged), "--key", str(vkey)])
    assert result.exit_code == 1
    assert number in result.output and "数量" in result.output


# -- the fee summary ---------------------------------------------------------------------------


def test_the_fee_summary_counts_submitted_claims_and_lists_the_others_apart(
    sealed: Sealed,
) -> None:
    claims = [d for d in sealed.manifest["documents"] if d["kind"] == "warranty_claim"]
    pages = read_pages(sealed.pdf, workers=1)
    (fees,) = [p for p in pages if p.fragments and p.fragments[0].text.strip() == "服务费用汇总"]
    text = fees.text
    counted = len(claims) - len(sealed.unsubmitted)
    assert sealed.unsubmitted and counted > 0
    assert f"三包索赔单 {counted} 份" in text
    apart = text[text.index("未上报，不计入服务费用") :]
    assert all(number in apart for number in sealed.unsubmitted)


def test_a_changed_fee_total_is_named(sealed: Sealed) -> None:
    pages = read_pages(sealed.pdf, workers=1)
    page = next(
        n
        for n, p in enumerate(pages, start=1)
        if p.fragments and p.fragments[0].text.strip() == "服务费用汇总"
    )
    texts = [f.text for f in pages[page - 1].fragments]
    total = next(i for i, t in enumerate(texts) if t.strip().startswith("合计（")) + 1
    forged = retyped(sealed.pdf, page, total, 0, "9876543210")
    report = check_bundle(forged, sealed.key)
    (finding,) = [f for f in report.findings if f.code == "fees_mismatch"]
    assert "服务费用合计印为" in finding.message_zh


# -- the comparison itself ---------------------------------------------------------------------


def _pages(*texts: str) -> list[list[Fragment]]:
    return [[Fragment(t) for t in texts]]


def test_a_digit_moved_into_the_next_cell_is_a_mismatch() -> None:
    cells = [Cell("数量", "1"), Cell("金额", "23.00")]
    assert compare(cells, _pages("1", "23.00")) == []
    assert compare(cells, _pages("1 ", "23", ".00")) == []  # a cell may wrap
    (moved, _) = compare(cells, _pages("12", "3.00"))
    assert moved.label == "数量" and moved.found.startswith("12")


def test_hidden_or_added_text_is_a_mismatch() -> None:
    cells = [Cell("数量", "1"), Cell("金额", "23.00")]
    (hidden,) = compare(cells, [[Fragment("1"), Fragment("7", visible=False), Fragment("23.00")]])
    assert hidden.label == "金额" and "隐藏文字" in hidden.found
    (extra,) = compare(cells, _pages("1", "23.00", "另加"))
    assert extra.found == "另加"


def test_pages_read_in_worker_processes_are_the_same(sealed: Sealed, monkeypatch) -> None:
    one = read_pages(sealed.pdf, workers=1)
    document = pdfium.PdfDocument(sealed.pdf)
    assert len(one) == len(document)
    document.close()
    monkeypatch.setattr(extract, "PARALLEL_FROM", 1)
    monkeypatch.setattr(extract, "RUN_PAGES", 3)
    assert read_pages(sealed.pdf, workers=2) == one
