"""A scan (PDF, JPEG or PNG) to PDF/A-3b with a Chinese text layer, by OCRmyPDF.

OCRmyPDF keeps a scanned page's image as it is and adds an invisible text layer in an embedded
font; a PDF that carries text of its own (perhaps in a font it does not embed) is converted
again with every page rasterised (``force_ocr``). Tesseract reads Simplified Chinese (its model
reads Latin letters and digits too; adding English made it misread Chinese words), and the
result is PDF/A-3b (Ghostscript where it must). It is checked before it is kept:
every font embedded, no image interpolated (both forbidden by PDF/A). A demo slip takes
1.1-1.5 s on an idle core here (many times that on a machine busy with other work).

The output carries the time it was made, so the same scan converted twice differs in bytes:
a scan is converted once and its result stored as a blob (``ScanRead`` names it). Conversions
can also be shared by content between archives (``ARCHIVE_OCR_CACHE``, a folder): the demo and
the tests make the same slips again and again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive.scans.fingerprint import page_fingerprint

LANGUAGES = ["chi_sim"]
A4_INCHES = (8.27, 11.69)
CACHE_ENV = "ARCHIVE_OCR_CACHE"
# What makes two conversions of the same input interchangeable: bump it when the options change.
OPTIONS_TAG = "force-ocr/pdfa-3/chi_sim/1"


class ConversionFailed(Exception):
    """OCRmyPDF could not convert the file, or made something that is not PDF/A."""


@dataclass(frozen=True)
class Converted:
    pdf: bytes  # the PDF/A-3b
    text: str  # what OCR read, pages separated by form feeds
    pages: int
    engine: str  # what made it: OCRmyPDF and Tesseract versions, languages
    page_fingerprints: tuple[str, ...]


def convert(path: Path, media_type: str) -> Converted:
    """The PDF/A of the scan at ``path``; :class:`ConversionFailed` if none can be made."""
    cache = _cache_dir()
    key = _cache_key(path) if cache else ""
    if cache is not None:
        hit = _from_cache(cache, key)
        if hit is not None:
            return hit
    with tempfile.TemporaryDirectory(prefix="ocr-") as work:
        converted = _convert(path, media_type, Path(work))
    if cache is not None:
        _to_cache(cache, key, converted)
    return converted


def convert_or_error(path: Path, media_type: str) -> Converted | Exception:
    """:func:`convert`, returning the error rather than raising it (for a worker process:
    one unreadable scan must not stop the others)."""
    try:
        return convert(path, media_type)
    except (ConversionFailed, OSError) as error:
        return ConversionFailed(str(error))


def _convert(path: Path, media_type: str, work: Path) -> Converted:
    import ocrmypdf

    output, sidecar = work / "out.pdf", work / "text.txt"
    options: dict[str, object] = {}
    if media_type != "application/pdf":
        options["image_dpi"] = _image_dpi(path)
    # One thread per Tesseract: scans are already read one per core (archive/commands/ocr.py),
    # and Tesseract's manual advises it when several run at once.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    # OCRmyPDF logs each step at INFO to the root logger; a clerk's terminal needs none of it.
    logging.getLogger("ocrmypdf").setLevel(logging.WARNING)

    def run(**more: object) -> None:
        ocrmypdf.ocr(
            path,
            output,
            language=LANGUAGES,
            output_type="pdfa-3",
            sidecar=sidecar,
            optimize=0,
            jobs=1,
            progress_bar=False,
            # A signed PDF (a manufacturer's form) is read too: its original, signature and
            # all, stays the evidence, embedded whole beside the pages made from it.
            invalidate_digital_signatures=True,
            use_threads=True,
            **options,
            **more,
        )

    try:
        try:
            run()
        except (ocrmypdf.exceptions.PriorOcrFoundError, ocrmypdf.exceptions.TaggedPDFError):
            # A PDF with text of its own: every page as an image, read again.
            run(force_ocr=True)
    except Exception as error:  # OCRmyPDF raises its own error tree and Ghostscript's
        raise ConversionFailed(f"{type(error).__name__}: {error}") from None
    pdf = _without_interpolation(output.read_bytes())
    text = sidecar.read_text(encoding="utf-8", errors="replace") if sidecar.exists() else ""
    fingerprints, engine = _inspect(pdf)
    return Converted(pdf, text.strip(), len(fingerprints), engine, fingerprints)


def _image_dpi(path: Path) -> int:
    """The resolution at which an image fills at most an A4 page: the file's own, unless it
    has none or would make a page larger than A4 (a phone photo says 72 dpi)."""
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
        stated = image.info.get("dpi", (0, 0))[0]
    fit = max(width / A4_INCHES[0], height / A4_INCHES[1], 1.0)
    return int(max(float(stated or 0), fit) + 0.999)


def _without_interpolation(pdf: bytes) -> bytes:
    """The PDF with no image asking to be interpolated (ISO 19005-3 §6.2.8.1): an input PDF's
    image may carry ``/Interpolate true`` through the conversion."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        changed = False
        for obj in document.objects:
            if isinstance(obj, pikepdf.Stream) and bool(obj.get("/Interpolate", False)):
                obj.Interpolate = False
                changed = True
        if not changed:
            return pdf
        out = io.BytesIO()
        document.save(out, deterministic_id=True)
        return out.getvalue()


def _inspect(pdf: bytes) -> tuple[tuple[str, ...], str]:
    """Each page's fingerprint and the engine named in the XMP; :class:`ConversionFailed`
    when a font is not embedded."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    fingerprints = []
    for number, page in enumerate(reader.pages, start=1):
        for font in _fonts(page):
            descriptor = _descriptor(font)
            if descriptor is None or not any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                raise ConversionFailed(f"page {number}: font {font.get('/BaseFont')} not embedded")
        fingerprints.append(page_fingerprint(page))
    metadata = reader.xmp_metadata
    creator = ""
    if metadata is not None:
        creator = metadata.xmp_creator_tool or ""
    engine = f"{creator or 'OCRmyPDF'} [{'+'.join(LANGUAGES)}]"
    return tuple(fingerprints), engine


def _fonts(page) -> list:
    """Every font dictionary the page or its form XObjects use."""
    found, seen = [], set()

    def walk(resources, depth: int) -> None:
        if resources is None or depth > 8:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            if id(font) not in seen:
                seen.add(id(font))
                found.append(font)
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"), depth + 1)

    walk(page.get("/Resources"), 0)
    return found


def _descriptor(font):
    if "/FontDescriptor" in font:
        return font["/FontDescriptor"].get_object()
    descendants = font.get("/DescendantFonts")
    if descendants:
        return _descriptor(descendants[0].get_object())
    return None


# -- sharing conversions by content --------------------------------------------------------


def _cache_dir() -> Path | None:
    folder = os.environ.get(CACHE_ENV)
    return Path(folder) if folder else None


def _cache_key(path: Path) -> str:
    import ocrmypdf

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashlib.sha256(f"{digest}/{ocrmypdf.__version__}/{OPTIONS_TAG}".encode()).hexdigest()


def _from_cache(cache: Path, key: str) -> Converted | None:
    pdf_path, text_path = cache / f"{key}.pdf", cache / f"{key}.txt"
    try:
        pdf = pdf_path.read_bytes()
        text = text_path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        fingerprints, engine = _inspect(pdf)
    except Exception:  # a torn or foreign file: convert again
        return None
    return Converted(pdf, text, len(fingerprints), engine, fingerprints)


def _to_cache(cache: Path, key: str, converted: Converted) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for suffix, data in ((".txt", converted.text.encode()), (".pdf", converted.pdf)):
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        shutil.move(tmp, cache / f"{key}{suffix}")
