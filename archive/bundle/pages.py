"""Which pages each document takes: its form and image scans in a rendered run, its PDF scans.

Runs are cut from the binding's documents; once they are rendered, the anchors of each run
(``render.document_anchor``, ``render.scan_anchor``) say where every document's pages are,
so the documents' first pages, and the page runs to merge, follow. Each run names the original
files its pages are made from (scans, drawn signatures), to be embedded beside them.
"""

from __future__ import annotations

from pathlib import Path

from archive.bundle.layout import PrintDocument
from archive.bundle.merge import PageRun, SourceFile
from archive.bundle.render import RenderedPart, document_anchor, scan_anchor

# Documents per rendered run: large enough that WeasyPrint's per-PDF setup (a fifth of a
# second: fonts) stays small beside the pages (a tenth of a second each), small enough that
# the cores finish together and a changed document re-renders only its own run.
RUN_SIZE = 48


def runs_by_kind(printed: list[PrintDocument]) -> list[list[PrintDocument]]:
    """Documents in runs of at most RUN_SIZE, evenly cut, never mixing kinds (so a kind's
    runs, and their cache entries, do not depend on the other kinds in the binding)."""
    by_kind: dict[str, list[PrintDocument]] = {}
    for p in printed:
        by_kind.setdefault(p.kind, []).append(p)
    runs = []
    for documents in by_kind.values():
        count = -(-len(documents) // RUN_SIZE)
        size = -(-len(documents) // count)
        runs.extend(documents[i : i + size] for i in range(0, len(documents), size))
    return runs


class DocumentPages:
    """The documents of rendered runs, in order, and how many pages each takes."""

    def __init__(self, runs: list[list[PrintDocument]], parts: list[RenderedPart]) -> None:
        self.placed: list[tuple[PrintDocument, RenderedPart, int]] = [
            (printed, part, index)
            for run, part in zip(runs, parts, strict=True)
            for index, printed in enumerate(run)
        ]
        self.lengths = [self._length(p, part, i) for p, part, i in self.placed]
        self.pages = sum(self.lengths)

    @property
    def documents(self) -> list[PrintDocument]:
        return [printed for printed, _, _ in self.placed]

    @staticmethod
    def _length(printed: PrintDocument, part: RenderedPart, index: int) -> int:
        start, end = part.anchors[document_anchor(index)]
        rendered_scans = 0
        for scan in printed.model["scans"]:
            if scan["placement"] != "pdf":
                first, last = part.anchors[scan_anchor(index, scan["position"])]
                rendered_scans += last - first
        return end - start + rendered_scans + printed.scan_pages()

    def first_pages(self, offset: int) -> list[int]:
        """0-based first page of each document, the first one starting at page ``offset``."""
        starts = []
        for length in self.lengths:
            starts.append(offset)
            offset += length
        return starts

    def page_runs(self, sources: list[bytes | Path]) -> list[PageRun]:
        """The documents' pages in order, each document's scans after its form.

        Appends the PDFs the pages come from to ``sources``; a run already there (the base
        of a single print) keeps its place.
        """
        index_of: dict[int, int] = {}
        runs = []
        for printed, part, index in self.placed:
            if id(part) not in index_of:
                known = next((i for i, s in enumerate(sources) if s is part.pdf), None)
                if known is None:
                    sources.append(part.pdf)
                    known = len(sources) - 1
                index_of[id(part)] = known
            source = index_of[id(part)]
            # The form's pages show the drawn signatures; a scan's pages are made from it.
            drawn = {s["image"] for s in printed.model["signatures"] if s["image"]}
            form = PageRun(source, *part.anchors[document_anchor(index)], _files(printed, drawn))
            runs.append(form)
            for scan in printed.model["scans"]:
                files = _files(printed, {scan["sha"]})
                if scan["placement"] == "pdf":
                    sources.append(printed.pdf_scans[scan["sha"]])
                    runs.append(PageRun(len(sources) - 1, 0, scan["pages"], files))
                else:
                    span = part.anchors[scan_anchor(index, scan["position"])]
                    runs.append(PageRun(source, *span, files))
        return runs


def _files(printed: PrintDocument, shas: set[str]) -> tuple[SourceFile, ...]:
    """The originals of ``shas`` that the layout located (in SHA-256 order)."""
    return tuple(printed.sources[sha] for sha in sorted(shas) if sha in printed.sources)
