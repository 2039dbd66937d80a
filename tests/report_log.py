"""The archive as the event log alone says it is: every document's final state, replayed from
the stored events without any read model. Report tests count from here, independently of the
projections the reports read, so a projection that drifts from the log shows as a wrong figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from archive.bootstrap import Archive
from events.application import fold
from events.document import Document


def aggregate_events(archive: Archive) -> dict[UUID, list[Any]]:
    """Every stored event, decoded, grouped by aggregate in log order."""
    grouped: dict[UUID, list[Any]] = {}
    after = 0
    while True:
        page = archive.app.recorder.select_notifications(
            start=after, limit=1000, inclusive_of_start=False
        )
        if not page:
            return grouped
        for notification in page:
            event = archive.app.mapper.to_domain_event(notification)
            grouped.setdefault(event.originator_id, []).append(event)
        after = page[-1].id


def documents(archive: Archive, kind: str | None = None, live: bool = True) -> Iterator[Document]:
    """Each document's final state (only not voided ones when ``live``), of one kind or all."""
    for events in aggregate_events(archive).values():
        if not isinstance(events[0], Document.Filed):
            continue
        doc = fold(events)
        if kind is not None and doc.kind != kind:
            continue
        if live and doc.voided is not None:
            continue
        yield doc


def aggregates(archive: Archive, cls: type) -> Iterator[Any]:
    """Each aggregate of class ``cls`` (one of the desk's records, not a document), folded."""
    for events in aggregate_events(archive).values():
        state = fold(events)
        if isinstance(state, cls):
            yield state
