"""Deterministic files for the demo: a handwritten-looking signature PNG, a scanned-slip PDF.

Byte-for-byte the same for the same input, so two demo archives hold the same blobs. The
signature is pure Python (``zlib`` and ``struct``); the slip is drawn with Pillow in the CJK
font, so that it reads in Chinese like the paper it stands for.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

SIGNATURE_SIZE = (120, 40)


def signature_png(name: str, variant: str = "") -> bytes:
    """A 120x40 grayscale PNG with a few pen strokes whose shape comes from ``name``.

    ``variant`` gives the same person another signature (signing a corrected slip again).
    """
    width, height = SIGNATURE_SIZE
    pixels = bytearray(b"\xff" * (width * height))
    seed = hashlib.sha256(f"{name}\x00{variant}".encode()).digest()
    for stroke in range(3 + seed[0] % 3):
        _draw_stroke(pixels, width, height, seed[stroke * 6 : stroke * 6 + 6], stroke)
    raw = b"".join(b"\x00" + bytes(pixels[y * width : (y + 1) * width]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def _draw_stroke(pixels: bytearray, width: int, height: int, genes: bytes, index: int) -> None:
    """A wavy left-to-right stroke, like one character of a quick signature.

    Integer arithmetic only (a triangle wave, not ``math.sin``), so every platform draws the
    same pixels.
    """
    x0 = 6 + index * 24 + genes[0] % 10
    y0 = 14 + genes[1] % 12
    slope = (genes[2] % 7) - 3
    wave = 3 + genes[3] % 6
    period = 3 + genes[5] % 5
    previous: int | None = None
    for step in range(20 + genes[4] % 24):
        phase = step % (2 * period)
        triangle = phase if phase < period else 2 * period - phase
        y = y0 + (slope * step) // 6 + (triangle * 2 * wave) // period - wave
        low, high = (y, y) if previous is None else (min(y, previous), max(y, previous))
        for py in range(low, high + 2):  # join to the last point; a pen is two pixels thick
            if 0 <= x0 + step < width and 0 <= py < height:
                pixels[py * width + x0 + step] = 20
        previous = y


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


# The demo draws its paper slips with the CJK font the print layouts use (Debian's
# fonts-noto-cjk); fontconfig says where it is when it is not at Debian's path.
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FAMILY = "Noto Sans CJK SC"
SCAN_SCALE = 2  # pixels per PDF point: 144 dpi, black and white, like an office scanner
A4 = (595, 842)  # points


@lru_cache(maxsize=1)
def _font_file() -> Path:
    if CJK_FONT.is_file():
        return CJK_FONT
    found = subprocess.run(
        ["fc-match", "-f", "%{file}", CJK_FAMILY], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not found or "CJK" not in found:
        raise FileNotFoundError(f"no {CJK_FAMILY} font: install fonts-noto-cjk")
    return Path(found)


@lru_cache(maxsize=4)
def _font(points: int) -> Any:
    from PIL import ImageFont  # the demo only; the archive itself never draws

    path = _font_file()
    index = 0
    if path.suffix == ".ttc":  # a collection: pick the Simplified Chinese face
        for face in range(12):
            if ImageFont.truetype(path, 12, index=face).getname()[0] == CJK_FAMILY:
                index = face
                break
    return ImageFont.truetype(path, points * SCAN_SCALE, index=index)


def scan_pdf(lines: list[str], subject: str = "") -> bytes:
    """A one-page A4 PDF of a scanned paper slip: ``lines[0]`` as the form's title, the rest
    (number, customer, date…) below it, drawn in Chinese as black-and-white pixels.

    A scan is an image, as the real ones are: the PDF holds no font (nothing for a bundle to
    embed), and the same lines give the same bytes. The title and ``subject`` (kind and
    number) go in the file's information, where tools and tests can read them.
    """
    from PIL import Image, ImageDraw

    scale = SCAN_SCALE
    width, height = A4[0] * scale, A4[1] * scale
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((50 * scale, 50 * scale, width - 50 * scale, height - 60 * scale), width=3)
    title, *body = lines or [""]
    draw.text((width // 2, 100 * scale), title, font=_font(26), fill=0, anchor="mm")
    draw.line((80 * scale, 130 * scale, width - 80 * scale, 130 * scale), width=2)
    for row, line in enumerate(body):
        draw.text((80 * scale, (160 + row * 30) * scale), line, font=_font(15), fill=0)
    bits = page.point(lambda v: 255 if v > 150 else 0).convert("1", dither=Image.Dither.NONE)
    info = b"<< /Title %s /Subject %s >>" % (_text(title), _text(subject))
    return _image_pdf(bits.tobytes(), width, height, info)


def _text(value: str) -> bytes:
    """A PDF text string: printable ASCII literally, anything else as UTF-16BE in hex."""
    if value.isascii() and value.isprintable():
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(%s)" % escaped.encode("ascii")
    return b"<%s>" % (b"\xfe\xff" + value.encode("utf-16-be")).hex().encode("ascii")


def _image_pdf(bits: bytes, width: int, height: int, info: bytes) -> bytes:
    """A PDF page filled by a 1-bit image (rows padded to bytes, 1 = white, as in Pillow)."""
    data = zlib.compress(bits, 9)
    drawing = b"q %d 0 0 %d 0 0 cm /Scan Do Q" % A4
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % A4
        + b"/Resources << /XObject << /Scan 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(drawing) + drawing + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        % (width, height)
        + b"/BitsPerComponent 1 /Filter /FlateDecode /Length %d >>\nstream\n" % len(data)
        + data
        + b"\nendstream",
        info,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref_at,
    )
    return bytes(out)
