"""Tiny deterministic files for the demo: a handwritten-looking signature PNG, a scanned-slip PDF.

Pure Python (``zlib`` and ``struct``), so the demo needs no imaging library, and byte-for-byte
the same for the same input, so two demo archives hold the same blobs.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

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


def scan_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF holding ``lines`` of ASCII text in Helvetica: the "scan" of a slip.

    Non-ASCII characters become ``?`` (the standard fonts have no CJK glyphs).
    """
    text = ["BT", "/F1 14 Tf", "72 770 Td", "18 TL"]
    for line in lines:
        safe = line.encode("ascii", "replace").decode("ascii")
        safe = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text.append(f"({safe}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
