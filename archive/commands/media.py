"""What an uploaded file must be once decoded, beyond its first bytes: a drawn signature a real
image of a sane size, a scan an image that decodes or a PDF of a bounded number of pages.

The blob store calls these on the finished temporary file, before it is stored, so a refused
file leaves nothing behind. Pillow and pypdf are imported here, in the commands that take an
upload, and nowhere on the way to ``archive --help``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from archive.blobs import BlobRejected

# A signature pad draws a few hundred pixels a side; 4,096 leaves room for a phone's camera.
SIGNATURE_MIN_SIDE = 4
SIGNATURE_MAX_SIDE = 4096
# A scanned A4 page at 600 dpi is 4,960 x 7,016 = 35 million pixels.
SCAN_MAX_PIXELS = 60_000_000

Check = Callable[[Path, str], None]


def signature_check(path: Path, media_type: str) -> None:
    """A drawn signature: a PNG that decodes, between the sides above."""
    if media_type != "image/png":
        raise BlobRejected(
            "signature_not_png", "签名图片应为 PNG", "the drawn signature must be a PNG"
        )
    width, height = _decoded_size(path, SIGNATURE_MAX_SIDE * SIGNATURE_MAX_SIDE)
    if not (
        SIGNATURE_MIN_SIDE <= width <= SIGNATURE_MAX_SIDE
        and SIGNATURE_MIN_SIDE <= height <= SIGNATURE_MAX_SIDE
    ):
        raise BlobRejected(
            "signature_size",
            f"签名图片尺寸 {width}×{height} 不合理（每边 {SIGNATURE_MIN_SIDE} 到 "
            f"{SIGNATURE_MAX_SIDE} 像素）",
            f"a signature of {width}x{height} pixels is implausible "
            f"({SIGNATURE_MIN_SIDE} to {SIGNATURE_MAX_SIDE} a side)",
        )


def scan_check(max_pages: int) -> Check:
    """A scan: an image that decodes (and is not a decompression bomb), or a PDF that pypdf
    reads with at most ``max_pages`` pages (each page is printed in every bundle)."""

    def check(path: Path, media_type: str) -> None:
        if media_type == "application/pdf":
            pages = _pdf_pages(path, max_pages)
            if pages > max_pages:
                raise BlobRejected(
                    "too_many_pages",
                    f"PDF 扫描件有 {pages} 页，超过 {max_pages} 页的上限；请分开上传",
                    f"the PDF scan has {pages} pages, over the limit of {max_pages}",
                )
        else:
            _decoded_size(path, SCAN_MAX_PIXELS)

    return check


def _decoded_size(path: Path, max_pixels: int) -> tuple[int, int]:
    """Width and height of an image Pillow decodes entirely; :class:`BlobRejected` if it
    cannot, or if it would hold more than ``max_pixels``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise BlobRejected(
                    "image_too_large",
                    f"图片 {width}×{height} 像素太大",
                    f"the image of {width}x{height} pixels is too large",
                )
            image.verify()  # checksums and structure, without decoding the pixels
        with Image.open(path) as image:
            image.load()  # the pixels: a truncated or corrupt stream fails here
    except BlobRejected:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        RecursionError,
        Image.DecompressionBombError,  # over Pillow's own limit, before ours could say so
    ):
        raise BlobRejected(
            "image_unreadable",
            "图片已损坏或不是有效的图片，无法打开",
            "the image is damaged or not a valid image",
        ) from None
    return width, height


def _pdf_pages(path: Path, max_pages: int) -> int:
    """The page count of the PDF; a PDF pypdf cannot read is refused (it could be neither
    shown nor printed).

    The page tree's ``/Count`` is read first: it refuses a 20,000-page file in a tenth of a
    second, where walking the tree takes seconds. Below the limit the tree is walked, since
    ``/Count`` may understate what it holds.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        declared = reader.root_object["/Pages"].get("/Count")  # type: ignore[union-attr]
        if isinstance(declared, int) and declared > max_pages:
            return declared
        return len(reader.pages)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise BlobRejected(
            "pdf_unreadable", "PDF 文件已损坏，无法打开", "the PDF is damaged and cannot be read"
        ) from None
