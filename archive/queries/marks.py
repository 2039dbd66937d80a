"""What marks a document beyond its fields: the check of each link it names and its flags.

Here so that the document view (``documents``) and the case file (``cases``) word them once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from archive.queries.search import FLAG_LABELS
from events.canonical import plain
from projections.flags import with_overdue

if TYPE_CHECKING:
    from archive.bootstrap import ReadModels

LINK_STATE_LABELS = {
    "ok": "已关联",
    "unlinked": "未关联",
    "mileage_differs": "里程不符",
    "further": "再次索赔",
    "unchecked": "未核对",  # filed before links were checked
}


def link_checks(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each link field's check (target, state, reason, detail), its state as the pages say it."""
    return [
        {**plain(link), "state_label": LINK_STATE_LABELS.get(link["state"], link["state"])}
        for link in links
    ]


def row_flags(row: dict[str, Any], catalog: Any, today: date) -> list[str]:
    """A worklists row's flags, with the deadlines passed by ``today`` (overdue)."""
    return list(
        with_overdue(
            tuple(row["flags"].split()), row["kind"], row["business_date"] or "", catalog, today
        )
    )


def flags_of(models: ReadModels, kind: str, number: str, today: date) -> list[str]:
    """A document's flags now, as the case file and search give them (the document page)."""
    row = models.worklists.document(kind, number)
    return [] if row is None else row_flags(row, models.worklists.catalog, today)


def flag_labels(flags: list[str]) -> list[str]:
    return [FLAG_LABELS.get(f, f) for f in flags]
