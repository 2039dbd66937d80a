"""From a sealed volume (or one document) to the finished PDF.

1. Load the volume's documents at their sealed versions; lay each out as a print model; build
   the manifest.
2. Render in parallel: the cover (carrying manifest.json), runs of documents (from the cache
   when rendered before), the fee summary.
3. Count pages: the table of contents has a known number of pages (front_matter), so every
   document's first page follows; render the table of contents with those numbers.
4. Merge, with scans' PDF pages in place, bookmarks, and page numbers stamped.
5. Sign (``signing``): PAdES B-B with the certificate the archive's key vouches for, at the
   seal's time (a printed document: its version's time), so the same volume gives the same bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archive import queries
from archive.bootstrap import Archive
from archive.bundle.bindings import (
    BINDING_LABELS,
    RETURN,
    binding_documents,
    check_binding,
    fee_summary,
    left_out,
)
from archive.bundle.cache import RenderCache, chunk_key
from archive.bundle.front_matter import (
    CoverFacts,
    cover_context,
    document_bookmarks,
    heading,
    toc_jobs,
    toc_page_count,
    toc_row_count,
    toc_rows,
)
from archive.bundle.layout import Layout, PrintDocument
from archive.bundle.manifest import MANIFEST_NAME, SINGLE, build_manifest, manifest_bytes
from archive.bundle.merge import Bookmark, PageRun, assemble
from archive.bundle.page_numbers import CHARACTERS
from archive.bundle.pages import DocumentPages, runs_by_kind
from archive.bundle.parallel import RenderPool
from archive.bundle.render import EmbeddedFile, RenderedPart, RenderJob, chunk_job, render_part
from archive.bundle.signing import sign_pdf
from archive.commands.ocr import read_scans_before_binding
from archive.integrity.certificate import archive_certificates
from archive.queries.volumes import bound_document, get_volume, sealed_documents
from events.volume import MonthVolume

FEES_TITLE = "服务费用汇总"
GLYPHS = RenderJob("print/glyphs.html", {"characters": CHARACTERS})

# stage (a key of STAGE_LABELS), done, total
Progress = Callable[[str, int, int], None]
STAGE_LABELS = {
    "load": "读取单据",
    "render": "排版",
    "contents": "目录",
    "merge": "合并",
    "sign": "签名",
}
VOLUME_REASON = "月度归档卷封存，内容与档案一致"
PRINT_REASON = "单据打印，内容与档案一致"


@dataclass(frozen=True)
class ContentsEntry:
    kind: str
    number: str
    page: int  # 1-based, where the document's form starts


@dataclass(frozen=True)
class Bundle:
    pdf: bytes
    pages: int
    contents: list[ContentsEntry]
    manifest: dict[str, Any]


def bundle_volume(
    archive: Archive,
    month: str,
    binding: str,
    *,
    supplement: int = 0,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Bundle:
    """The PDF of one binding (``return`` or ``full``) of a sealed volume."""
    check_binding(binding)
    volume = get_volume(archive, month, supplement)
    report = progress or _silent
    sealed = sealed_documents(archive, volume)
    documents = binding_documents(binding, sealed)
    layout = Layout(archive)
    printed = []
    for done, bound in enumerate(documents, start=1):
        printed.append(layout.document(bound.kind, bound.doc))
        report("load", done, len(documents))
    manifest = build_manifest(
        archive, documents, binding=binding, volume=volume, left_out=left_out(binding, sealed)
    )
    dealer = archive.settings.dealer_name
    title = heading(volume)
    cover = _cover_job(archive, volume, binding, printed, manifest)
    extras = []
    if binding == RETURN:
        fees = fee_summary(documents).model()
        extras.append(
            RenderJob("print/fees.html", {"dealer": dealer, "heading": title, "fees": fees})
        )
    runs = runs_by_kind(printed)
    chunks = [
        chunk_job(
            [p.model for p in run],
            {sha: uri for p in run for sha, uri in p.images.items()},
            dealer,
            cache_key=chunk_key([p.model for p in run], dealer),
        )
        for run in runs
    ]
    # Rendered here first (once per process): besides the glyphs, it leaves WeasyPrint warmed
    # up (fonts loaded) in this process, which the workers forked from it inherit.
    glyphs = page_number_glyphs()
    with RenderPool(RenderCache(archive.layout.print_cache), workers) as pool:
        cover_part, *rest = pool.render(
            [cover, *extras, *chunks], lambda done, total: report("render", done, total)
        )
        extra_parts, chunk_parts = rest[: len(extras)], rest[len(extras) :]
        body = DocumentPages(runs, chunk_parts)
        extra_titles = [FEES_TITLE] * len(extras)
        toc = _render_contents(
            pool,
            body,
            list(zip(extra_titles, extra_parts, strict=True)),
            cover_part.pages,
            {"heading": title, "dealer": dealer},
            report,
        )
    first = cover_part.pages + sum(p.pages for p in toc)
    sources: list[bytes | Path] = [cover_part.pdf, *(p.pdf for p in toc)]
    page_runs = [PageRun(i, 0, p.pages) for i, p in enumerate([cover_part, *toc])]
    page_runs += body.page_runs(sources)
    starts = body.first_pages(first)
    bookmarks = [Bookmark("封面", 0), Bookmark("目录", cover_part.pages)]
    bookmarks += document_bookmarks(body.documents, starts)
    end = first + body.pages
    for extra_title, part in zip(extra_titles, extra_parts, strict=True):
        sources.append(part.pdf)
        page_runs.append(PageRun(len(sources) - 1, 0, part.pages))
        bookmarks.append(Bookmark(extra_title, end))
        end += part.pages
    report("merge", 0, 1)
    pdf = assemble(sources, page_runs, bookmarks, glyphs)
    report("merge", 1, 1)
    report("sign", 0, 1)
    pdf = sign_pdf(pdf, archive_certificates(archive), volume.sealed_at, VOLUME_REASON)
    report("sign", 1, 1)
    contents = [
        ContentsEntry(p.kind, p.number, start + 1)
        for p, start in zip(body.documents, starts, strict=True)
    ]
    return Bundle(pdf, end, contents, manifest)


def print_document(
    archive: Archive,
    kind_code: str,
    number: str,
    *,
    version: int | None = None,
    as_of: datetime | None = None,
) -> Bundle:
    """One document as it stands now (or at ``version``, or at the instant ``as_of``, looked up
    as strictly as the document page does), with its scans, alone in a PDF/A-3b file."""
    kind, doc = queries.get_document(archive, kind_code, number, version=version, as_of=as_of)
    if version is None and as_of is None:  # as it stands now: its waiting scans read first
        doc = read_scans_before_binding(archive, [doc])[0]
    bound = bound_document(archive, doc.id, doc.version)
    printed = Layout(archive).document(kind, bound.doc)
    manifest = build_manifest(archive, [bound], binding=SINGLE)
    part = render_part(
        chunk_job(
            [printed.model],
            printed.images,
            archive.settings.dealer_name,
            stamp=_w3c(archive, doc.modified_on),
            files=(
                EmbeddedFile(
                    MANIFEST_NAME,
                    manifest_bytes(manifest),
                    f"{kind.label} {doc.number} 清单",
                    doc.modified_on,
                ),
            ),
        )
    )
    body = DocumentPages([[printed]], [part])
    sources: list[bytes | Path] = [part.pdf]
    runs = body.page_runs(sources)
    title = f"{kind.label} {doc.number}"
    pdf = assemble(sources, runs, [Bookmark(title, 0)], page_number_glyphs())
    pdf = sign_pdf(pdf, archive_certificates(archive), doc.modified_on, PRINT_REASON)
    return Bundle(pdf, body.pages, [ContentsEntry(kind.code, doc.number, 1)], manifest)


def _cover_job(
    archive: Archive,
    volume: MonthVolume,
    binding: str,
    printed: list[PrintDocument],
    manifest: dict[str, Any],
) -> RenderJob:
    """The cover; it is the merged file's base, so it carries the dates and the manifest."""
    facts = CoverFacts(
        dealer=archive.settings.dealer_name,
        sealed_at=volume.sealed_at.astimezone(archive.settings.tz),
        sealed_by_name=queries.staff_name(archive, volume.sealed_by),
        stamp=_w3c(archive, volume.sealed_at),
        manifest_name=MANIFEST_NAME,
    )
    manifest_file = EmbeddedFile(
        MANIFEST_NAME,
        manifest_bytes(manifest),
        f"{heading(volume)}（{BINDING_LABELS[binding]}）装订清单",
        volume.sealed_at,
    )
    context = cover_context(volume, binding, printed, facts)
    return RenderJob("print/cover.html", context, files=(manifest_file,))


def _render_contents(
    pool: RenderPool,
    body: DocumentPages,
    extras: list[tuple[str, RenderedPart]],
    cover_pages: int,
    context: dict[str, Any],
    report: Progress,
) -> list[RenderedPart]:
    """The table of contents, in as many jobs as there are workers.

    Its page count is known in advance (fixed rows per page); should a page ever spill over,
    the numbers are computed again from the real count and it is rendered once more.
    """
    expected = toc_page_count(toc_row_count(body.documents, len(extras)))
    for _ in range(3):
        first = cover_pages + expected
        listed, page = [], first + body.pages
        for title, part in extras:
            listed.append((title, page + 1))
            page += part.pages
        starts = [s + 1 for s in body.first_pages(first)]
        rows = toc_rows(body.documents, starts, listed)
        parts = pool.render(
            toc_jobs(rows, pool.workers, context),
            lambda done, total: report("contents", done, total),
        )
        actual = sum(p.pages for p in parts)
        if actual == expected:
            return parts
        expected = actual
    raise RuntimeError("the table of contents does not settle on a page count")


@functools.cache
def page_number_glyphs() -> bytes:
    """The PDF whose font subset draws the page numbers: the same every time, so each process
    renders it once rather than on every print."""
    return render_part(GLYPHS).pdf


def _w3c(archive: Archive, moment: datetime) -> str:
    """A W3C date-time in the dealership's zone, to the second: the PDF's fixed dates."""
    return moment.astimezone(archive.settings.tz).replace(microsecond=0).isoformat()


def _silent(stage: str, done: int, total: int) -> None:
    """No progress shown."""
