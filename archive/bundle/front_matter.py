"""How a reader finds his way in a bundle: the cover, the table of contents, the bookmarks.

The table of contents is cut into pages here, a fixed number of one-line rows to a page, so
its length is known before anything is rendered: the page numbers it lists depend on it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.bundle.bindings import BINDING_LABELS
from archive.bundle.layout import PrintDocument
from archive.bundle.merge import Bookmark
from archive.bundle.render import RenderJob
from archive.kinds.registry import KINDS
from events.volume import MonthVolume

# One-line rows of the table of contents per page (kind headings count as rows); well under
# what fits, so a page of rows never spills onto a second page.
TOC_ROWS_PER_PAGE = 40


def heading(volume: MonthVolume) -> str:
    """``2026 年 10 月售后档案`` (``… 补1`` for a supplement)."""
    year, month = volume.month.split("-")
    supplement = f" 补{volume.supplement}" if volume.supplement else ""
    return f"{year} 年 {int(month)} 月售后档案{supplement}"


@dataclass(frozen=True)
class CoverFacts:
    """What the cover states besides the counts (times already in local time)."""

    dealer: str
    sealed_at: datetime
    sealed_by_name: str
    stamp: str  # the PDF's dates (W3C date-time)
    manifest_name: str


def cover_context(
    volume: MonthVolume, binding: str, printed: list[PrintDocument], facts: CoverFacts
) -> dict[str, Any]:
    """The context of ``print/cover.html``."""
    title = heading(volume)
    rows = [
        ("卷次", volume.label),
        ("装订方式", BINDING_LABELS[binding]),
        ("封存时间", f"{facts.sealed_at:%Y-%m-%d %H:%M}"),
        ("封存人", facts.sealed_by_name),
    ]
    if volume.forced_reason:
        rows.append(
            ("强制封存", f"{volume.forced_reason}（封存时未完成 {len(volume.open_blockers)} 项）")
        )
    rows += [
        ("本卷单据", f"{len(volume.entries)} 份（本装订 {len(printed)} 份）"),
        ("清单摘要 SHA-256", volume.list_hash),
        ("装订清单", f"附件 {facts.manifest_name}"),
    ]
    counts = Counter(d.kind for d in printed)
    return {
        "title": f"{facts.dealer} {title} {BINDING_LABELS[binding]}",
        "dealer": facts.dealer,
        "heading": title,
        "subtitle": BINDING_LABELS[binding],
        "stamp": facts.stamp,
        "counts": [(KINDS[code].label, counts[code]) for code in KINDS if counts[code]],
        "total": len(printed),
        "facts": rows,
    }


# -- table of contents ----------------------------------------------------------------------


@dataclass(frozen=True)
class TocRow:
    text: str
    date: str = ""
    status: str = ""
    page: int | None = None
    heading: bool = False

    def model(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "date": self.date,
            "status": self.status,
            "page": self.page or "",
            "heading": self.heading,
        }


def toc_rows(
    documents: list[PrintDocument], first_pages: list[int], extras: list[tuple[str, int]]
) -> list[TocRow]:
    """A heading per kind, a row per document with the (1-based) page it starts on, then
    ``extras`` (title, page) such as the fee summary."""
    rows = []
    counts = Counter(d.kind for d in documents)
    current = None
    for printed, page in zip(documents, first_pages, strict=True):
        if printed.kind != current:
            current = printed.kind
            rows.append(TocRow(f"{KINDS[current].label}（{counts[current]} 份）", heading=True))
        model = printed.model
        rows.append(TocRow(model["number"], model["business_date"], model["status_label"], page))
    rows.extend(TocRow(title, page=page, heading=True) for title, page in extras)
    return rows


def toc_row_count(documents: list[PrintDocument], extras: int) -> int:
    """How many rows :func:`toc_rows` makes, known before any page number is."""
    return len({d.kind for d in documents}) + len(documents) + extras


def toc_page_count(rows: int) -> int:
    return max(1, -(-rows // TOC_ROWS_PER_PAGE))


def toc_jobs(rows: list[TocRow], parts: int, context: dict[str, Any]) -> list[RenderJob]:
    """The table of contents cut into pages, and the pages into ``parts`` render jobs.

    A page is a list of blocks: a heading, or a run of rows (printed as lines of text).
    """
    pages = []
    for first in range(0, max(len(rows), 1), TOC_ROWS_PER_PAGE):
        blocks: list[dict[str, Any]] = []
        for row in rows[first : first + TOC_ROWS_PER_PAGE]:
            if row.heading:
                blocks.append({"heading": row.model(), "rows": []})
            elif blocks and blocks[-1]["heading"] is None:
                blocks[-1]["rows"].append(row.model())
            else:
                blocks.append({"heading": None, "rows": [row.model()]})
        pages.append(blocks)
    share = -(-len(pages) // max(parts, 1))
    return [
        RenderJob("print/toc.html", {**context, "pages": pages[i : i + share], "first": i == 0})
        for i in range(0, len(pages), share)
    ]


# -- bookmarks ------------------------------------------------------------------------------


def document_bookmarks(documents: list[PrintDocument], starts: list[int]) -> list[Bookmark]:
    """A bookmark per kind holding a bookmark per document (0-based pages)."""
    groups: dict[str, Bookmark] = {}
    for printed, start in zip(documents, starts, strict=True):
        if printed.kind not in groups:
            groups[printed.kind] = Bookmark(KINDS[printed.kind].label, start)
        title = f"{printed.number}\u3000{printed.model['business_date']}"
        groups[printed.kind].children.append(Bookmark(title, start))
    for group in groups.values():
        group.title = f"{group.title}（{len(group.children)} 份）"
    return list(groups.values())
