"""Putting a bundle together: the rendered parts' pages and the scans' pages in order, one
bookmark per document, page numbers on every page.

The first part (the cover, or the lone document of a single print) is the base: its catalog
is kept whole, and with it what WeasyPrint wrote for PDF/A-3b — the XMP metadata declaring
the conformance, the sRGB output intent, the document dates and the embedded manifest.json.
The other parts contribute pages only. The file identifier is the base's, which WeasyPrint
derives from the base's content, so the same volume always gives the same bytes.

The files a run's pages are made from (a scan's original, the PNG of a drawn signature) are
embedded as PDF/A-3 associated files with ``AFRelationship /Source``: listed in the catalog's
``/AF`` and the embedded-files name tree, and in the ``/AF`` of each page they are shown on,
which is how ``verify-bundle`` (``check/scans.py``) finds what each page must be derived from.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from archive.bundle.page_numbers import PageNumberStamp


@dataclass(frozen=True)
class SourceFile:
    """A file some pages are made from, embedded in the bundle beside them."""

    sha256: str
    path: Path
    media_type: str
    name: str  # as the person who uploaded it named it (may be empty)
    description: str
    modified: datetime  # when it came into the archive: fixed, so the bytes are too


@dataclass(frozen=True)
class PageRun:
    """Pages ``[start, end)`` of ``sources[source]``; source 0 is the base. ``files`` are
    what these pages are made from (associated with each of them)."""

    source: int
    start: int
    end: int
    files: tuple[SourceFile, ...] = ()


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
    sourced: list[tuple[int, int, tuple[SourceFile, ...]]] = []  # (first page, count, files)
    for run in runs:
        if run.files:
            sourced.append((cursor, run.end - run.start, run.files))
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
            page = writer.insert_page(reader.pages[index], cursor)
            # An uploaded scan's own annotations (notes, links, a signature field) are not marks
            # the archive makes, which verify-bundle refuses; the original keeps them, embedded.
            if "/Annots" in page:
                del page["/Annots"]
            cursor += 1
    if next_base_page != base_pages:
        raise ValueError("every page of the base must be placed")
    _associate_sources(writer, sourced)
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


def _associate_sources(
    writer: PdfWriter, sourced: list[tuple[int, int, tuple[SourceFile, ...]]]
) -> None:
    """Embed each source file once and associate it with the document and with its pages."""
    specs: dict[str, IndirectObject] = {}
    for first, count, files in sourced:
        refs = []
        for source in files:
            if source.sha256 not in specs:
                specs[source.sha256] = _embed(writer, source)
            refs.append(specs[source.sha256])
        for index in range(first, first + count):
            writer.pages[index][NameObject("/AF")] = ArrayObject(refs)
    if not specs:
        return
    root = writer.root_object
    listed = list(root.raw_get("/AF").get_object()) if "/AF" in root else []
    root[NameObject("/AF")] = ArrayObject([*listed, *specs.values()])
    if "/Names" not in root:
        root[NameObject("/Names")] = DictionaryObject()
    names = root["/Names"]
    if "/EmbeddedFiles" not in names:
        names[NameObject("/EmbeddedFiles")] = DictionaryObject(
            {NameObject("/Names"): ArrayObject()}
        )
    tree = names["/EmbeddedFiles"]
    flat = list(tree.get("/Names", []))
    pairs = [(str(flat[i]), flat[i + 1]) for i in range(0, len(flat) - 1, 2)]
    pairs += [(_key(sha), ref) for sha, ref in specs.items()]
    pairs.sort(key=lambda pair: pair[0].encode("utf-16-be"))
    tree[NameObject("/Names")] = ArrayObject(
        [item for key, ref in pairs for item in (TextStringObject(key), ref)]
    )


def _key(sha256: str) -> str:
    return f"source-{sha256}"


def _embed(writer: PdfWriter, source: SourceFile) -> IndirectObject:
    data = source.path.read_bytes()
    stamp = source.modified.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
    stream = DecodedStreamObject()
    stream.set_data(data)
    stream[NameObject("/Type")] = NameObject("/EmbeddedFile")
    stream[NameObject("/Subtype")] = NameObject("/" + source.media_type)
    stream[NameObject("/Params")] = DictionaryObject(
        {
            NameObject("/Size"): NumberObject(len(data)),
            NameObject("/CreationDate"): TextStringObject(stamp),
            NameObject("/ModDate"): TextStringObject(stamp),
            NameObject("/CheckSum"): ByteStringObject(hashlib.md5(data).digest()),
        }
    )
    encoded = writer._add_object(stream.flate_encode())
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
    plain = f"{source.sha256[:16]}.{extension.get(source.media_type, 'bin')}"
    spec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject(plain),
            NameObject("/UF"): TextStringObject(source.name or plain),
            NameObject("/Desc"): TextStringObject(source.description),
            NameObject("/AFRelationship"): NameObject("/Source"),
            NameObject("/EF"): DictionaryObject(
                {NameObject("/F"): encoded, NameObject("/UF"): encoded}
            ),
        }
    )
    return writer._add_object(spec)
