"""Comparing the text objects of printed pages with the cells they must show, in order.

Both sides lose their white space (a cell wraps wherever the line ends, and a wrapped line's
space is not drawn). Each cell must then be exactly the text of the next one or more objects:
never found somewhere on the page, never half of an object, so a digit moved from one cell to
the next, or a "1" that also stands elsewhere on the page, is a mismatch. Hidden text (render
mode 3) never matches. After a mismatch the comparison picks up where the next few cells
match again, so each changed cell is named, with what the page shows instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archive.bundle.check.cells import Cell
from archive.bundle.check.extract import Fragment
from archive.bundle.printed import compact

HIDDEN = "\x00"  # marks hidden text: no cell's text holds it
RESYNC_CELLS = 40  # how far ahead the comparison looks for its place again
RESYNC_FRAGMENTS = 60
AGREEING = 3  # cells that must match in a row to pick up again
MOST = 8  # mismatches named per document


@dataclass(frozen=True)
class Mismatch:
    label: str
    expected: str
    found: str

    def zh(self) -> str:
        return f"{self.label}印为“{_cut(self.found)}”，应为“{_cut(self.expected)}”"


@dataclass(frozen=True)
class _Piece:
    text: str
    page: int


def page_pieces(pages: Sequence[Sequence[Fragment]]) -> list[_Piece]:
    return [
        _Piece(compact(f.text) if f.visible else HIDDEN + compact(f.text), page)
        for page, fragments in enumerate(pages)
        for f in fragments
        if f.text.strip() or not f.visible
    ]


def compare(cells: Sequence[Cell], pages: Sequence[Sequence[Fragment]]) -> list[Mismatch]:
    """The cells the pages (their text objects, header and page number taken off) do not show
    as expected, in order; text left over at the end is a mismatch too."""
    return _Comparison([c for c in cells if compact(c.text)], page_pieces(pages)).run()


class _Comparison:
    def __init__(self, cells: list[Cell], pieces: list[_Piece]) -> None:
        self.cells = cells
        self.pieces = pieces
        self.repeated: set[int] = set()  # pages where a table head was found repeated

    def run(self) -> list[Mismatch]:
        found: list[Mismatch] = []
        k, i = 0, 0
        while k < len(self.cells) and len(found) < MOST:
            i = self._repeated_head(k, i)
            end = self._match(self.cells[k], i)
            if end is not None:
                k, i = k + 1, end
                continue
            place = self._resync(k + 1, i)
            k2, i2 = place if place is not None else (len(self.cells), len(self.pieces))
            shown = self._text(i, i2)
            for skipped in self.cells[k:k2]:
                found.append(Mismatch(skipped.label, compact(skipped.text), shown))
                shown = ""
            k, i = k2, i2
        if i < len(self.pieces) and len(found) < MOST:
            found.append(Mismatch("表格之后多出的文字", "", self._text(i, len(self.pieces))))
        return found

    def _repeated_head(self, k: int, i: int) -> int:
        """Past a table head repeated at the top of a new page, if there is one."""
        cell = self.cells[k]
        if not cell.repeat or not 0 < i < len(self.pieces):
            return i
        page = self.pieces[i].page
        if page == self.pieces[i - 1].page or page in self.repeated:
            return i
        end = self._match_run(cell.repeat, i)
        if end is None:
            return i
        self.repeated.add(page)
        return end

    def _match(self, cell: Cell, i: int) -> int | None:
        """Where the pieces after ``cell`` start, if pieces from ``i`` on spell it exactly."""
        want = compact(cell.text)
        text, j = "", i
        while j < len(self.pieces) and len(text) < len(want):
            text += self.pieces[j].text
            j += 1
        return j if text == want else None

    def _match_run(self, cells: Sequence[Cell], i: int) -> int | None:
        for cell in cells:
            if not compact(cell.text):
                continue
            end = self._match(cell, i)
            if end is None:
                return None
            i = end
        return i

    def _resync(self, k: int, i: int) -> tuple[int, int] | None:
        for k2 in range(k, min(k + RESYNC_CELLS, len(self.cells))):
            run = self.cells[k2 : k2 + AGREEING]
            for i2 in range(i, min(i + RESYNC_FRAGMENTS, len(self.pieces))):
                if self._match_run(run, i2) is not None:
                    return k2, i2
        return None

    def _text(self, start: int, end: int) -> str:
        return "".join(p.text.replace(HIDDEN, "（隐藏文字）") for p in self.pieces[start:end])


def _cut(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
