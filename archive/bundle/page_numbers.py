"""``第 x 页 / 共 y 页`` stamped at the foot of every page of a merged PDF.

The parts of a bundle are rendered separately (in parallel), so no part knows its page
numbers; they are added after merging. WeasyPrint renders the characters needed once
(``print/glyphs.html``); that PDF's embedded font subset is copied into the bundle and every
page gets a small content stream drawing its numbers with it. So the numbers use the same
embedded Chinese font as the pages (PDF/A wants every font embedded), stay extractable as text
(the subset carries its ToUnicode map), and no page's own content is parsed or rewritten.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
)

# Every character "第 x 页 / 共 y 页" can need, rendered by print/glyphs.html.
CHARACTERS = "第页共/ 0123456789"
FONT_SIZE = 8  # points
BASELINE = 28.0  # points above the bottom edge, inside the bottom margin (20 mm)
FONT_RESOURCE = NameObject("/ArchivePageNo")

_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


def page_label(number: int, total: int) -> str:
    return f"第 {number} 页 / 共 {total} 页"


class PageNumberStamp:
    """Stamps page numbers on pages of ``writer`` with the font of a glyphs PDF."""

    def __init__(self, writer: PdfWriter, glyphs_pdf: bytes) -> None:
        page = PdfReader(io.BytesIO(glyphs_pdf)).pages[0]
        fonts = page["/Resources"]["/Font"]
        if len(fonts) != 1:
            raise ValueError(f"the glyphs PDF should hold one font, not {len(fonts)}")
        font = next(iter(fonts.values())).get_object()
        self.codes = _codes_by_character(font["/ToUnicode"].get_object().get_data())
        missing = set(CHARACTERS) - set(self.codes)
        if missing:
            raise ValueError(f"the page-number font lacks {''.join(sorted(missing))!r}")
        descendant = font["/DescendantFonts"][0].get_object()
        self.widths = _widths(descendant)
        self.default_width = float(descendant.get("/DW", 1000))
        self.writer = writer
        # Cloning an object read from another PDF registers it in the writer.
        self.font = font.clone(writer).indirect_reference
        self.save_state = self._add_stream(b"q\n")
        self.restore_state = self._add_stream(b"Q\n")

    def stamp(self, page: PageObject, number: int, total: int) -> None:
        text = page_label(number, total)
        codes = [self.codes[c] for c in text]
        width = sum(self.widths.get(code, self.default_width) for code in codes)
        box = page.mediabox
        x = float(box.left) + (float(box.width) - width * FONT_SIZE / 1000) / 2
        y = float(box.bottom) + BASELINE
        hex_codes = "".join(f"{code:04x}" for code in codes)
        drawing = (
            f"BT /{FONT_RESOURCE[1:]} {FONT_SIZE} Tf 0.25 g 1 0 0 1 {_num(x)} {_num(y)} Tm "
            f"<{hex_codes}> Tj ET\n"
        ).encode()
        # Reading through the page resolves references: these are the (possibly shared)
        # dictionaries themselves, changed in place.
        if "/Resources" not in page:
            page[NameObject("/Resources")] = DictionaryObject()
        resources = page["/Resources"]
        if "/Font" not in resources:
            resources[NameObject("/Font")] = DictionaryObject()
        resources["/Font"][FONT_RESOURCE] = self.font
        contents = page.raw_get("/Contents") if "/Contents" in page else None
        if contents is None:
            own = []
        elif isinstance(contents.get_object(), ArrayObject):
            own = list(contents.get_object())
        else:
            own = [contents]
        # The page's own drawing is wrapped in q ... Q so that no graphics state it leaves
        # behind (a transformation, a colour) shifts or tints the numbers.
        page[NameObject("/Contents")] = ArrayObject(
            [self.save_state, *own, self.restore_state, self._add_stream(drawing)]
        )

    def _add_stream(self, data: bytes) -> IndirectObject:
        stream = DecodedStreamObject()
        stream.set_data(data)
        # pypdf has no public call to add a new indirect object to a writer; merge_page would,
        # but it parses and rewrites each page's whole content stream (far slower per page).
        return self.writer._add_object(stream)


def _codes_by_character(cmap: bytes) -> dict[str, int]:
    """Character -> glyph code, from the ``bfchar`` entries of a ToUnicode CMap."""
    codes: dict[str, int] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, unicode in _BFCHAR.findall(block):
            text = bytes.fromhex(unicode.decode()).decode("utf-16-be")
            codes.setdefault(text, int(code, 16))
    return codes


def _widths(cid_font: DictionaryObject) -> dict[int, float]:
    """Glyph code -> advance width (thousandths of an em), from a CID font's ``/W`` array."""
    widths: dict[int, float] = {}
    entries = list(cid_font.get("/W", []))
    i = 0
    while i < len(entries):
        first = int(entries[i])
        following = entries[i + 1].get_object()
        if isinstance(following, ArrayObject):
            for offset, width in enumerate(following):
                widths[first + offset] = float(width)
            i += 2
        else:  # c_first c_last w
            for code in range(first, int(following) + 1):
                widths[code] = float(entries[i + 2])
            i += 3
    return widths


def _num(value: float) -> str:
    """A number for a content stream: fixed decimals, so output never depends on float repr."""
    return str(Decimal(value).quantize(Decimal("0.01")))
