"""HTML to PDF with WeasyPrint: one job, one PDF, possibly in a worker process.

Many documents in one HTML render far faster than one PDF per document (font setup is paid per
PDF), so documents are rendered in runs ("chunks"). Each document and each scan placed on a
page carries an anchor; the pages where the anchors land tell the merge step which pages
belong to which document.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import weasyprint

from archive.bundle.templates import environment

PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True)
class EmbeddedFile:
    """A file to embed in the PDF (PDF/A-3 "associated file")."""

    name: str
    data: bytes
    description: str
    created: datetime  # written as the file's dates: fixed, so the PDF is reproducible


@dataclass(frozen=True)
class RenderJob:
    """A template and its context (plain data), picklable for a worker process."""

    template: str
    context: dict[str, Any]
    files: tuple[EmbeddedFile, ...] = ()
    cache_key: str | None = None  # set for document chunks (archive/bundle/cache.py)
    size: int = 1  # documents in it: big jobs are started first, small ones fill the end


@dataclass(frozen=True)
class RenderedPart:
    pdf: bytes
    pages: int
    # Anchor -> [first page, end page) within this PDF: "d3" is the run's fourth document
    # (its form), "d3s2" the page of its second scan.
    anchors: dict[str, tuple[int, int]] = field(default_factory=dict)


def document_anchor(index: int) -> str:
    return f"d{index}"


def scan_anchor(index: int, position: int) -> str:
    return f"d{index}s{position}"


def chunk_job(
    models: list[dict[str, Any]],
    images: dict[str, str],
    dealer: str,
    *,
    cache_key: str | None = None,
    stamp: str | None = None,
    files: tuple[EmbeddedFile, ...] = (),
) -> RenderJob:
    """A run of documents (print models from ``archive/bundle/layout.py``) as one job.

    Inside a bundle only its pages are used, so it carries no dates (``stamp``) and no files:
    the same documents then render to the same bytes for any volume, and the cache can serve
    them to all. A document printed alone is its own PDF and carries both.
    """
    documents = []
    for index, model in enumerate(models):
        scans = [
            {**scan, "anchor": "" if scan["placement"] == "pdf" else scan_anchor(index, p)}
            for p, scan in enumerate(model["scans"], start=1)
        ]
        documents.append({**model, "anchor": document_anchor(index), "scans": scans})
    context = {"docs": documents, "images": images, "dealer": dealer, "stamp": stamp}
    return RenderJob(
        "print/chunk.html", context, files=files, cache_key=cache_key, size=len(models)
    )


def render_part(job: RenderJob) -> RenderedPart:
    """Render one job: PDF/A-3b bytes, page count, and where each anchor's pages are."""
    # WeasyPrint's box tree lives until the PDF is written, so the cyclic garbage collector
    # scans a growing heap again and again and frees nothing: pausing it saves 10-20% of the
    # time (reference counting still frees what dies; the collector runs again afterwards).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _render(job)
    finally:
        if collecting:
            gc.enable()


def _render(job: RenderJob) -> RenderedPart:
    html = environment().get_template(job.template).render(**job.context)
    document = weasyprint.HTML(string=html).render()
    first: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        for name in page.anchors:
            first.setdefault(name, number)
    starts = sorted(first.items(), key=lambda item: item[1])
    total = len(document.pages)
    anchors = {
        name: (start, starts[i + 1][1] if i + 1 < len(starts) else total)
        for i, (name, start) in enumerate(starts)
    }
    attachments = [
        weasyprint.Attachment(
            string=f.data,
            name=f.name,
            description=f.description,
            created=f.created,
            modified=f.created,
            relationship="Data",
        )
        for f in job.files
    ]
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=attachments or None)
    return RenderedPart(pdf, total, anchors)
