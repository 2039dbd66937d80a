"""The PDF/A-3b rules veraPDF would check, on every page and object of a sealed demo month's
bundles (veraPDF itself cannot be installed here), and the proof of scans and signature images.

A small demo October, with a photo (PNG) added to a work order, is sealed: sealing reads every
scan (OCR to PDF/A, ``archive/commands/ocr.py``), so the bundles show the PDF/A pages and embed
each original beside the pages made from it. Tampered copies (a scan page edited, a drawn
signature replaced) must fail ``verify-bundle`` with a finding that names them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, NameObject, StreamObject

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.bundle.check import check_bundle
from archive.bundle.check.scans import drawn_images
from archive.bundle.pipeline import bundle_volume
from archive.commands import sealing
from archive.commands.ocr import read_pending_scans
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.demo.media import signature_png
from archive.integrity import load_verifier
from archive.integrity.keys import VerifierKey
from archive.scans.readings import scan_readings, unread_scans
from events.document import Document
from tests.support import FakeClock, png_bytes

MONTH = "2026-10"
FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


@dataclass
class Bound:
    archive: Archive
    full: bytes
    returned: bytes
    key: VerifierKey
    documents: list[Document]  # as sealed


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bound]:
    home = tmp_path_factory.mktemp("pdfa") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    load(archive, generate(DemoSpec(month=MONTH, work_orders=12)))
    orders = sorted(
        d.number for d in _documents(archive) if d.kind == "work_order" and d.voided is None
    )
    commands.attach_scan(
        archive, "work_order", orders[0], io.BytesIO(png_bytes(7)), "li.na", "photo.png", "照片"
    )
    assert any(unread_scans(d) for d in _documents(archive))  # uploads never wait for OCR
    volume = commands.seal_month(archive, MONTH, "ma.zhiqiang", force_reason="测试：强制封存")
    documents = [
        archive.app.repository.get(UUID(e["id"]), version=e["version"]) for e in volume.entries
    ]
    full = bundle_volume(archive, MONTH, "full").pdf
    returned = bundle_volume(archive, MONTH, "return").pdf
    key = load_verifier(archive.settings)
    assert key is not None
    try:
        yield Bound(archive, full, returned, key, documents)
    finally:
        archive.close()


def _documents(archive: Archive) -> list[Document]:
    notifications = archive.app.recorder.select_notifications(0, 100_000, inclusive_of_start=False)
    ids = {n.originator_id for n in notifications if n.topic.endswith("Document.Filed")}
    return [archive.app.repository.get(i) for i in ids]


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


# -- the rules ---------------------------------------------------------------------------------


def test_sealing_read_every_scan_it_bound(bound: Bound) -> None:
    scanned = [d for d in bound.documents if d.active_scans()]
    assert scanned and not any(unread_scans(d) for d in bound.documents)
    readings = [r for d in scanned for r in scan_readings(d).values()]
    assert readings and all(r.pages >= 1 and len(r.page_fingerprints) == r.pages for r in readings)
    assert all(bound.archive.blobs.exists(r.derived_sha256) for r in readings)


@pytest.mark.parametrize("binding", ["full", "return"])
def test_every_page_follows_the_pdf_a_rules(bound: Bound, binding: str) -> None:
    pdf = bound.full if binding == "full" else bound.returned
    reader = _reader(pdf)
    # No object in the file asks for interpolation (§6.2.8.1), the signature PNGs included.
    assert b"/Interpolate true" not in pdf
    for number, page in enumerate(reader.pages, start=1):
        for font in _fonts(page.get("/Resources")):
            descriptor = _descriptor(font)
            assert descriptor is not None and any(k in descriptor for k in FONT_FILES), (
                f"page {number}: font {font.get('/BaseFont')} is not embedded"
            )
        for image in _images(page.get("/Resources")):
            interpolate = image.get("/Interpolate")
            assert interpolate is None or not interpolate.value, f"page {number} interpolates"
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"<pdfaid:part>3</pdfaid:part>|pdfaid:part=\"3\"", xmp)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>|pdfaid:conformance=\"B\"", xmp)
    (intent,) = root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    # Every embedded file is an associated file with its relationship, name, type and date.
    specs = [ref.get_object() for ref in root["/AF"]]
    tree = root["/Names"]["/EmbeddedFiles"]["/Names"]
    listed = [tree[i + 1].get_object() for i in range(0, len(tree), 2)]
    assert len(listed) == len(specs) and {id(s) for s in listed} == {id(s) for s in specs}
    for spec in specs:
        assert spec["/AFRelationship"] in ("/Source", "/Data")
        assert "/F" in spec and "/UF" in spec
        stream = spec["/EF"]["/F"].get_object()
        assert stream["/Type"] == "/EmbeddedFile" and "/Subtype" in stream
        assert "/ModDate" in stream["/Params"]
    sources = [s for s in specs if s["/AFRelationship"] == "/Source"]
    assert sources  # the scans' originals and the drawn signatures


def test_every_printed_scan_is_embedded_beside_its_pdf_a_pages(bound: Bound) -> None:
    reader = _reader(bound.full)
    by_page: dict[str, list[int]] = {}
    for index, page in enumerate(reader.pages):
        for ref in page.get("/AF", []):
            data = ref.get_object()["/EF"]["/F"].get_object().get_data()
            by_page.setdefault(_sha(data), []).append(index)
    for doc in bound.documents:
        drawn = {s.image_sha256 for s in doc.signatures}
        for scan in doc.active_scans():
            if scan.sha256 in drawn:
                continue
            reading = scan_readings(doc)[scan.sha256]
            assert len(by_page[scan.sha256]) == reading.pages, doc.number
            derived = _reader(bound.archive.blobs.read(reading.derived_sha256))
            if scan.media_type == "application/pdf":  # a slip with words (the photo has none)
                assert _fonts(derived.pages[0].get("/Resources"))  # the text layer's font
            # the page shown is the PDF/A's page: same scan image, same text layer
            shown = reader.pages[by_page[scan.sha256][0]]
            assert _image_data(shown) == _image_data(derived.pages[0]), doc.number


def test_the_untouched_bundles_verify(bound: Bound) -> None:
    for pdf in (bound.full, bound.returned):
        report = check_bundle(pdf, bound.key)
        assert report.intact, [f.as_dict() for f in report.findings]


def test_the_same_volume_gives_the_same_bytes_after_ocr(bound: Bound) -> None:
    assert bundle_volume(bound.archive, MONTH, "full").pdf == bound.full


# -- tampering ---------------------------------------------------------------------------------


def _codes(pdf: bytes, key: VerifierKey) -> set[str]:
    report = check_bundle(pdf, key)
    assert not report.intact
    return {f.code for f in report.findings}


def _forge(image: StreamObject, samples: bytes) -> None:
    """Replace an image's samples, as a forger would (no PNG predictor on the new ones)."""
    image.pop("/DecodeParms", None)
    image.set_data(samples)


def test_an_edited_scan_page_is_found(bound: Bound) -> None:
    writer = PdfWriter(clone_from=_reader(bound.full))
    page = next(p for p in writer.pages if _af_media(p) == "application/pdf")
    (image,) = drawn_images(page)
    data = bytearray(image.get_data())
    data[len(data) // 2 : len(data) // 2 + 400] = b"\x00" * 400  # a black bar across the slip
    _forge(image, bytes(data))
    assert "scan_page_altered" in _codes(_written(writer), bound.key)


def _signed_pages(writer: PdfWriter) -> list[Any]:
    """Form pages that show one drawn signature (a PNG among their sources)."""
    return [p for p in writer.pages if _af_media(p) == "image/png" and len(drawn_images(p)) == 1]


def test_a_replaced_signature_image_is_found(bound: Bound) -> None:
    writer = PdfWriter(clone_from=_reader(bound.full))
    (image,) = drawn_images(_signed_pages(writer)[0])
    from PIL import Image

    forged = Image.open(io.BytesIO(signature_png("冒名顶替")))
    assert (image["/Width"], image["/Height"]) == forged.size
    _forge(image, forged.convert("L").tobytes())
    assert "image_unproved" in _codes(_written(writer), bound.key)


def test_another_customers_signature_with_its_file_is_found(bound: Bound) -> None:
    """The forger copies another document's signature and its embedded PNG onto a page: both
    are in the events, but not as a signature of the document printed there."""
    from PIL import Image

    writer = PdfWriter(clone_from=_reader(bound.full))
    pages = _signed_pages(writer)
    mine, theirs = pages[0], pages[-1]
    their_png = theirs["/AF"][0].get_object()["/EF"]["/F"].get_object().get_data()
    (image,) = drawn_images(mine)
    _forge(image, Image.open(io.BytesIO(their_png)).convert("L").tobytes())
    mine[NameObject("/AF")] = theirs["/AF"]
    assert "signature_image_misplaced" in _codes(_written(writer), bound.key)


def test_an_original_not_in_the_events_is_found(bound: Bound) -> None:
    writer = PdfWriter(clone_from=_reader(bound.full))
    page = next(p for p in writer.pages if _af_media(p) == "application/pdf")
    stream = page["/AF"][0].get_object()["/EF"]["/F"].get_object()
    stream.set_data(stream.get_data() + b"\n% another file\n")
    assert "source_file_unknown" in _codes(_written(writer), bound.key)


# -- helpers -----------------------------------------------------------------------------------


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _af_media(page: Any) -> str | None:
    af = page.get("/AF")
    if not af:
        return None
    return str(af[0].get_object()["/EF"]["/F"].get_object()["/Subtype"])[1:]


def _fonts(resources: Any, depth: int = 0) -> list[Any]:
    if resources is None or depth > 8:
        return []
    resources = resources.get_object()
    fonts = [f.get_object() for f in (resources.get("/Font") or {}).values()]
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            fonts += _fonts(xobject.get("/Resources"), depth + 1)
    return fonts


def _descriptor(font: Any) -> Any:
    if "/FontDescriptor" in font:
        return font["/FontDescriptor"].get_object()
    descendants = font.get("/DescendantFonts")
    if isinstance(descendants, ArrayObject) and descendants:
        return _descriptor(descendants[0].get_object())
    return None


def _images(resources: Any, depth: int = 0) -> list[StreamObject]:
    if resources is None or depth > 8:
        return []
    found = []
    for xobject in (resources.get_object().get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Image":
            found.append(xobject)
            if "/SMask" in xobject:
                found.append(xobject["/SMask"].get_object())
        elif xobject.get("/Subtype") == "/Form":
            found += _images(xobject.get("/Resources"), depth + 1)
    return found


def _image_data(page: Any) -> list[bytes]:
    return sorted(i.get_data() for i in _images(page.get("/Resources")))


# -- an archive written before scans were read -----------------------------------------------


def test_a_volume_sealed_before_scans_were_read_still_binds_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Volumes sealed before this change hold no ``ScanRead``: their bundles show the original
    scans, proved by the originals' own pages, and stay the same bytes once ``archive ocr``
    reads those scans later (the sealed versions do not change)."""
    # Sealing as it was before scans were read: it neither reads nor waits for readings.
    monkeypatch.setattr(sealing, "_read_scans", lambda archive, documents, report: None)
    monkeypatch.setattr(sealing, "unread_scans", lambda doc: [])
    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    try:
        load(archive, generate(DemoSpec(month=MONTH, work_orders=12)))
        volume = commands.seal_month(archive, MONTH, "ma.zhiqiang", force_reason="测试：强制封存")
        sealed = [
            archive.app.repository.get(UUID(e["id"]), version=e["version"]) for e in volume.entries
        ]
        assert any(unread_scans(d) for d in sealed)
        before = bundle_volume(archive, MONTH, "return").pdf
        key = load_verifier(archive.settings)
        report = check_bundle(before, key)
        assert report.intact, [f.as_dict() for f in report.findings]
        assert read_pending_scans(archive).scans >= 1  # read later, after the seal
        assert bundle_volume(archive, MONTH, "return").pdf == before
    finally:
        archive.close()
