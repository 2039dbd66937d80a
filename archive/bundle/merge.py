"""Putting a bundle together: the rendered parts' pages and the scans' pages in order, one
bookmark per document, page numbers on every page.

The first part (the cover, or the lone document of a single print) is the base: its catalog
is kept whole, and with it what WeasyPrint wrote for PDF/A-3b — the XMP metadata declaring
the conformance, the sRGB output intent, the document dates and the embedded manifest.json.
The other parts contribute pages only. The file identifier is the base's, which WeasyPrint
derives from the base's content, so the same volume always gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, IndirectObject, NameObject

from archive.bundle.page_numbers import PageNumberStamp


@dataclass(frozen=True)
class PageRun:
    """Pages ``[start, end)`` of ``sources[source]``; source 0 is the base."""

    source: int
    start: int
    end: int


@dataclass
class Bookmark:
    title: str
    page: int  # 0-based page index in the merged PDF
    children: list[Bookmark] = field(default_factory=list)


def assemble(
    sources: list[bytes | Path],
    runs: list[PageRun],
    bookmarks: list[Bookmark],
    glyphs_pdf: bytes,
) -> bytes:
    """The merged PDF: the pages of ``runs``, in order.

    ``sources[0]`` is the base. Its pages keep their order (runs of it must follow one
    another from page 0, covering every page); pages of other sources go before, between or
    after them.
    """
    base = sources[0]
    assert isinstance(base, bytes)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
    _list_associated_files_once(writer)
    base_pages = len(writer.pages)
    readers: dict[int, PdfReader] = {}
    cursor = 0  # where the next page goes
    next_base_page = 0
    for run in runs:
        if run.source == 0:
            if run.start != next_base_page:
                raise ValueError("the base's pages must come in their own order")
            next_base_page = run.end
            cursor += run.end - run.start
            continue
        reader = readers.get(run.source)
        if reader is None:
            source = sources[run.source]
            reader = PdfReader(source if isinstance(source, Path) else io.BytesIO(source))
            readers[run.source] = reader
        for index in range(run.start, run.end):
            writer.insert_page(reader.pages[index], cursor)
            cursor += 1
    if next_base_page != base_pages:
        raise ValueError("every page of the base must be placed")
    stamp = PageNumberStamp(writer, glyphs_pdf)
    total = len(writer.pages)
    for number, page in enumerate(writer.pages, start=1):
        stamp.stamp(page, number, total)
    for bookmark in bookmarks:
        _add_bookmark(writer, bookmark, None)
    writer.page_mode = "/UseOutlines"
    # PDF/A-3 is based on PDF 1.7; pypdf would otherwise write the header it started with.
    writer.pdf_header = "%PDF-1.7"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _add_bookmark(writer: PdfWriter, bookmark: Bookmark, parent: IndirectObject | None) -> None:
    # A kind with its documents starts folded: a month holds hundreds of work orders.
    item = writer.add_outline_item(
        bookmark.title, bookmark.page, parent=parent, is_open=not bookmark.children
    )
    for child in bookmark.children:
        _add_bookmark(writer, child, item)


def _list_associated_files_once(writer: PdfWriter) -> None:
    """WeasyPrint lists each embedded file twice in the catalog's ``/AF``; once is right."""
    if "/AF" not in writer.root_object:
        return
    unique: list[IndirectObject] = []
    for reference in writer.root_object.raw_get("/AF").get_object():
        if all(reference.idnum != seen.idnum for seen in unique):
            unique.append(reference)
    writer.root_object[NameObject("/AF")] = ArrayObject(unique)
