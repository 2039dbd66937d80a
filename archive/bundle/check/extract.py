"""A bundle's pages as the text they draw: every text object, in the order the page draws it.

PDFium (``pypdfium2``) interprets each page as a viewer does (form XObjects included) and names
its text objects; WeasyPrint draws every cell of a table, and every wrapped line of one, as its
own text object, in the order of the document, so a cell's end is always an object's end (the
cell check relies on it). PDFium reads ~200 pages/s on one core here, pypdf's ``extract_text``
~45; a long file is cut into runs of pages read in worker processes, each of which opens the
file once.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from archive.bundle.parallel import available_cores

# Below this many pages one process reads faster than starting others.
PARALLEL_FROM = 240
RUN_PAGES = 100  # pages per task: progress moves, and the workers finish together
INVISIBLE = 3  # text render mode 3: neither filled nor stroked


@dataclass(frozen=True)
class Fragment:
    """One text object: its text, and whether it is drawn visibly."""

    text: str
    visible: bool = True


@dataclass(frozen=True)
class PageText:
    fragments: tuple[Fragment, ...]
    error: str | None = None  # why the page could not be read

    @property
    def text(self) -> str:
        """The page's text, one object a line (for the patterns of ``archive.bundle.printed``)."""
        return "\n".join(f.text for f in self.fragments)


def read_pages(
    pdf: bytes, workers: int | None = None, progress: Callable[[int, int], None] | None = None
) -> list[PageText]:
    """Every page's text objects; ``workers`` processes (default: every core) for long files."""
    report = progress or (lambda done, total: None)
    document = pdfium.PdfDocument(pdf)
    try:
        total = len(document)
    finally:
        document.close()
    workers = max(1, workers or available_cores())
    report(0, total)
    if workers == 1 or total < PARALLEL_FROM:
        _open(pdf)
        pages: list[PageText] = []
        for start in range(0, total, RUN_PAGES):
            pages += _read_run(start, min(start + RUN_PAGES, total))
            report(len(pages), total)
        return pages
    return _read_in_workers(pdf, total, workers, report)


def _read_in_workers(
    pdf: bytes, total: int, workers: int, report: Callable[[int, int], None]
) -> list[PageText]:
    # A process with threads (the web server) must not fork: see archive.bundle.parallel.
    method = "fork" if threading.active_count() == 1 else "forkserver"
    context = multiprocessing.get_context(method)
    if method == "forkserver":  # the server imports PDFium once; each worker forks from it
        context.set_forkserver_preload([__name__])
    runs = {start: min(start + RUN_PAGES, total) for start in range(0, total, RUN_PAGES)}
    read: dict[int, list[PageText]] = {}
    done = 0
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_open, initargs=(pdf,)) as ex:
        futures = {ex.submit(_read_run, start, end): start for start, end in runs.items()}
        for future in as_completed(futures):
            read[futures[future]] = future.result()
            done += len(read[futures[future]])
            report(done, total)
    return [page for start in sorted(read) for page in read[start]]


# The file a reading process has open (one per process: PDFium is not thread-safe).
_DOCUMENT: pdfium.PdfDocument | None = None


def _open(pdf: bytes) -> None:
    global _DOCUMENT
    if _DOCUMENT is not None:
        _DOCUMENT.close()
    _DOCUMENT = pdfium.PdfDocument(pdf)


def _read_run(start: int, end: int) -> list[PageText]:
    assert _DOCUMENT is not None
    return [_read_page(_DOCUMENT, index) for index in range(start, end)]


def _read_page(document: pdfium.PdfDocument, index: int) -> PageText:
    try:
        page = document[index]
        textpage = page.get_textpage()
        try:
            fragments = tuple(_fragments(page, textpage))
        finally:
            textpage.close()
            page.close()
    except Exception as error:  # a damaged page: say which, read the rest
        return PageText((), str(error) or type(error).__name__)
    return PageText(fragments)


def _fragments(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> Iterator[Fragment]:
    for item in page.get_objects(max_depth=8):
        if item.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        size = pdfium_c.FPDFTextObj_GetText(item.raw, textpage.raw, None, 0)
        if size <= 2:  # the terminating NUL alone
            continue
        buffer = (ctypes.c_ushort * (size // 2))()
        pdfium_c.FPDFTextObj_GetText(item.raw, textpage.raw, buffer, size)
        text = bytes(buffer)[: size - 2].decode("utf-16-le", errors="replace")
        mode = pdfium_c.FPDFTextObj_GetTextRenderMode(item.raw)
        yield Fragment(text, mode != INVISIBLE)
