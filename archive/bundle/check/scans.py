"""Scans and signature images proved: every page made from a file names it, the file is in the
events, and what the page shows is what was made from that file.

A bundle embeds each original it shows (a scan's upload, a drawn signature's PNG) as a PDF/A-3
associated file with ``AFRelationship /Source``, listed in the ``/AF`` of the pages made from it
(``archive/bundle/merge.py``). For each such file the check:

- hashes the embedded bytes: the SHA-256 must be a scan attached to, or a signature image of,
  a bound document in the proved events;
- for a scan printed as pages: those pages come one after another, as many as its reading says
  (``ScanRead``, in the proved events) or, unread, as the original has; each page's fingerprint
  (``archive/scans/fingerprint.py``) equals the one the reading recorded for the PDF/A made
  from the original (or the original's own page), and the page adds nothing but its number;
- for an image shown on a form (a drawn signature, or an unread image scan): every image drawn
  on the page has exactly the pixels of one of the page's source files, and a signature image
  is one a ``Signed`` event of the document printed on that page names.

And every scan a bound document prints must be there.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject

from archive.bundle.check.documents import ProvedDocument
from archive.bundle.check.report import BundleReport
from archive.integrity.findings import subject_label
from archive.scans.fingerprint import page_fingerprint
from archive.scans.readings import scan_readings, shown_as_signature

SOURCE = "/Source"
IMAGE_TYPES = ("image/png", "image/jpeg")
# An XObject drawn by a content stream: its name before the ``Do`` operator.
DRAWN = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")
# What the page-number stamp draws (archive/bundle/page_numbers.py), and nothing else.
STAMP = re.compile(
    rb"BT /ArchivePageNo \d+ Tf 0\.25 g 1 0 0 1 -?\d+\.\d\d -?\d+\.\d\d Tm <[0-9a-f]+> Tj ET\n"
)


@dataclass
class Expected:
    """A printed scan of a bound document, and what its pages must be."""

    doc: ProvedDocument
    sha256: str
    media_type: str
    fingerprints: list[str] | None  # None: an unread image scan, drawn on a rendered page
    pages: list[int] = field(default_factory=list)  # 0-based pages that name it

    @property
    def pagewise(self) -> bool:
        """Shown as pages of its own (checked by fingerprint), not as an image on a page."""
        return self.fingerprints is not None or self.media_type == "application/pdf"


def check_scans(
    reader: PdfReader,
    documents: list[ProvedDocument],
    starts: dict[tuple[str, str], int],
    report: BundleReport,
) -> None:
    files = _SourceFiles()
    expected: dict[str, Expected] = {}
    signed_by: dict[str, set[tuple[str, str]]] = {}  # image SHA-256 -> documents it signs
    attached: set[str] = set()
    for doc in documents:
        if doc.replayed is None:
            continue  # its events did not replay: reported already
        replayed = doc.replayed
        readings = scan_readings(replayed)
        for s in replayed.signatures:
            if s.image_sha256:
                signed_by.setdefault(s.image_sha256, set()).add((doc.kind, doc.number))
        for scan in replayed.scans:
            attached.add(scan.sha256)
            if not scan.active or shown_as_signature(replayed, scan):
                continue
            reading = readings.get(scan.sha256)
            prints = list(reading.page_fingerprints) if reading is not None else None
            expected[scan.sha256] = Expected(doc, scan.sha256, scan.media_type, prints)
    owner = _page_owners(starts, len(reader.pages))
    for index, page in enumerate(reader.pages):
        sources = [files.read(spec) for spec in _specs(page.get("/AF"))]
        for source in sources:
            if source.sha256 not in attached and source.sha256 not in signed_by:
                report.add(
                    "source_file_unknown",
                    f"PDF 第 {index + 1} 页附带的原件（SHA-256 {source.sha256[:12]}）"
                    "不是任何装订单据的扫描件或签名图片",
                    f"page {index + 1} embeds an original ({source.sha256[:12]}) that no bound "
                    "document took as a scan or signature image",
                )
        pagewise = [
            expected[s.sha256]
            for s in sources
            if s.sha256 in expected and expected[s.sha256].pagewise
        ]
        if pagewise:  # a scan's own page (a PDF/A made from it, or the PDF itself)
            pagewise[0].pages.append(index)
            continue
        for s in sources:  # an unread image scan, drawn on a rendered page
            if s.sha256 in expected:
                expected[s.sha256].pages.append(index)
        _check_images(page, index, sources, signed_by, owner.get(index), report)
    for catalog_spec in _specs(reader.trailer["/Root"].get("/AF")):
        source = files.read(catalog_spec)
        if source.sha256 not in attached and source.sha256 not in signed_by:
            report.add(
                "source_file_unknown",
                f"PDF 附带的原件（SHA-256 {source.sha256[:12]}）不是任何装订单据的扫描件或签名图片",
                f"the file embeds an original ({source.sha256[:12]}) that no bound document "
                "took as a scan or signature image",
            )
    for item in expected.values():
        _check_scan_pages(reader, item, files, report)


@dataclass(frozen=True)
class Source:
    sha256: str
    data: bytes
    media_type: str


class _SourceFiles:
    """Embedded originals, each read once however many pages name it."""

    def __init__(self) -> None:
        self.read_by_id: dict[int, Source] = {}

    def read(self, spec: Any) -> Source:
        key = id(spec)
        if key not in self.read_by_id:
            stream = spec["/EF"]["/F"].get_object()
            data = stream.get_data()
            media = str(stream.get("/Subtype", "/application/octet-stream"))[1:]
            self.read_by_id[key] = Source(hashlib.sha256(data).hexdigest(), data, media)
        return self.read_by_id[key]


def _specs(af: Any) -> list[Any]:
    """The file specifications of an ``/AF`` array that are a source of what is shown."""
    if af is None:
        return []
    af = af.get_object()
    if not isinstance(af, ArrayObject):
        return []
    specs = [ref.get_object() for ref in af]
    return [s for s in specs if s.get("/AFRelationship") == SOURCE and "/EF" in s]


def _page_owners(starts: dict[tuple[str, str], int], pages: int) -> dict[int, tuple[str, str]]:
    """0-based page -> the document printed on it (from its form's first page to the next)."""
    ordered = sorted((page - 1, key) for key, page in starts.items())
    owners: dict[int, tuple[str, str]] = {}
    for i, (first, key) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else pages
        for page in range(first, end):
            owners[page] = key
    return owners


def _check_scan_pages(
    reader: PdfReader, item: Expected, files: _SourceFiles, report: BundleReport
) -> None:
    label = f"{subject_label(item.doc.subject)}的扫描件 {item.sha256[:12]}"
    fingerprints = item.fingerprints
    if fingerprints is None and item.media_type == "application/pdf":
        fingerprints = _original_fingerprints(reader, item)
    if fingerprints is None:  # an unread image scan: its page was checked as an image
        if not item.pages:
            _missing(item, label, report)
        return
    if not item.pages:
        _missing(item, label, report)
        return
    first = item.pages[0]
    if item.pages != list(range(first, first + len(fingerprints))):
        report.add(
            "scan_pages_mismatch",
            f"{label}应有 {len(fingerprints)} 页相连，PDF 中找到 {len(item.pages)} 页"
            f"（第 {', '.join(str(p + 1) for p in item.pages[:10])} 页）",
            f"{item.doc.kind} {item.doc.number}: scan {item.sha256[:12]} should have "
            f"{len(fingerprints)} pages in a row, the PDF has {len(item.pages)}",
            item.doc.last_event,
        )
        return
    for index, want in zip(item.pages, fingerprints, strict=True):
        page = reader.pages[index]
        own = _own_drawing(page)
        if own is None or page_fingerprint(page, own) != want:
            report.add(
                "scan_page_altered",
                f"PDF 第 {index + 1} 页不是由{label}生成的那一页（内容被改动）",
                f"page {index + 1} is not the page made from {item.doc.kind} "
                f"{item.doc.number}'s scan {item.sha256[:12]} (it was altered)",
                item.doc.last_event,
            )


def _missing(item: Expected, label: str, report: BundleReport) -> None:
    report.add(
        "scan_missing",
        f"{label}应附在单据之后，PDF 中没有找到由它生成的页",
        f"{item.doc.kind} {item.doc.number}: no page made from scan {item.sha256[:12]}",
        item.doc.last_event,
    )


def _original_fingerprints(reader: PdfReader, item: Expected) -> list[str] | None:
    """An unread PDF scan is shown as it is: its own pages' fingerprints."""
    if not item.pages:
        return None
    page = reader.pages[item.pages[0]]
    for spec in _specs(page.get("/AF")):
        stream = spec["/EF"]["/F"].get_object()
        data = stream.get_data()
        if hashlib.sha256(data).hexdigest() == item.sha256:
            original = PdfReader(io.BytesIO(data))
            return [page_fingerprint(p) for p in original.pages]
    return None


def _own_drawing(page: Any) -> list[Any] | None:
    """The page's own content streams, once the merge's ``q … Q`` and the page-number stamp
    are taken off; ``None`` when the page draws anything else around them."""
    contents = page.raw_get("/Contents").get_object() if "/Contents" in page else None
    if not isinstance(contents, ArrayObject) or len(contents) < 3:
        return None
    streams = list(contents)
    first, close, stamp = (
        s.get_object().get_data() for s in (streams[0], streams[-2], streams[-1])
    )
    if first != b"q\n" or close != b"Q\n" or not STAMP.fullmatch(stamp):
        return None
    return streams[1:-2]


# -- images on rendered pages ----------------------------------------------------------------


def _check_images(
    page: Any,
    index: int,
    sources: list[Source],
    signed_by: dict[str, set[tuple[str, str]]],
    owner: tuple[str, str] | None,
    report: BundleReport,
) -> None:
    for image in drawn_images(page):
        match = next((s for s in sources if _same_pixels(image, s)), None)
        if match is None:
            report.add(
                "image_unproved",
                f"PDF 第 {index + 1} 页有一幅图片（签名或扫描件）与本页附带的任何原件都不一致",
                f"page {index + 1} shows an image that matches none of the originals it names",
            )
        elif (
            match.sha256 in signed_by and owner is not None and owner not in signed_by[match.sha256]
        ):
            report.add(
                "signature_image_misplaced",
                f"PDF 第 {index + 1} 页的签名图片（{match.sha256[:12]}）不是本页单据"
                f" {owner[1]} 的签字所用图片",
                f"page {index + 1} shows signature image {match.sha256[:12]}, which no signature "
                f"of {owner[0]} {owner[1]} names",
            )


def drawn_images(page: Any) -> list[Any]:
    """Every image XObject the page draws (through form XObjects it draws). WeasyPrint gives
    all pages of a rendered run one resource dictionary, so what a page's resources hold is
    not what it shows: the ``Do`` operators of its content say."""
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    return _drawn(data, page.get("/Resources"), 0)


def _drawn(content: bytes, resources: Any, depth: int) -> list[Any]:
    if resources is None or depth > 8:
        return []
    xobjects = resources.get_object().get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else {}
    found = []
    for name in dict.fromkeys(DRAWN.findall(content)):
        ref = xobjects.get("/" + name.decode("latin-1"))
        if ref is None:
            continue
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Image":
            found.append(xobject)
        elif xobject.get("/Subtype") == "/Form":
            inner = xobject.get("/Resources", resources)
            found += _drawn(xobject.get_data(), inner, depth + 1)
    return found


@dataclass(frozen=True)
class Pixels:
    """A source image decoded as WeasyPrint places it: samples without alpha, and alpha."""

    size: tuple[int, int]
    jpeg: bool
    samples: bytes
    alpha: bytes | None


@functools.lru_cache(maxsize=256)
def _pixels(data: bytes) -> Pixels | None:
    """The decoded source (a signature is shown on many pages: decoded once)."""
    from PIL import Image, UnidentifiedImageError

    try:
        original = Image.open(io.BytesIO(data))
        jpeg = original.format in ("JPEG", "MPO")
        original.load()
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    if jpeg:
        return Pixels(original.size, True, original.tobytes(), None)
    if "transparency" in original.info:
        original = original.convert("RGBA")
    elif original.mode in ("1", "P", "I"):
        original = original.convert("RGB")
    base = original.mode.removesuffix("A")
    alpha = original.getchannel("A").tobytes() if original.mode.endswith("A") else None
    return Pixels(original.size, False, original.convert(base).tobytes(), alpha)


def _same_pixels(image: Any, source: Source) -> bool:
    """Whether the image XObject shows exactly the pixels of the source file (as WeasyPrint
    places a PNG or JPEG: samples as they decode, alpha as a soft mask)."""
    if source.media_type not in IMAGE_TYPES:
        return False
    original = _pixels(source.data)
    if original is None or (image.get("/Width"), image.get("/Height")) != original.size:
        return False
    if any(k in image for k in ("/Decode", "/ImageMask", "/Mask")):
        return False
    try:
        if original.jpeg:
            from PIL import Image

            shown = Image.open(io.BytesIO(image._data))
            ok = image.get("/Filter") == "/DCTDecode" and "/SMask" not in image
            return ok and shown.tobytes() == original.samples
        if image.get_data() != original.samples:
            return False
        mask = image.get("/SMask")
        if original.alpha is None:
            return mask is None
        return mask is not None and mask.get_object().get_data() == original.alpha
    except Exception:  # a stream made not to decode
        return False
