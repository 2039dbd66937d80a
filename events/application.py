"""The eventsourcing ``Application`` that stores documents and staff.

Only ``archive.commands`` calls :meth:`ArchiveApplication.save`; everything else reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder

from events.transcodings import register_archive_transcodings


def states(
    events: Iterable[Aggregate.Event], state: Any = None
) -> Iterator[tuple[Aggregate.Event, Any]]:
    """Each event with the state it leaves, starting from ``state`` (``None``: the events
    begin with the aggregate's creation)."""
    for event in events:
        state = event.mutate(state)
        yield event, state


def fold(events: Iterable[Aggregate.Event], state: Any = None) -> Any:
    """The state the events leave, starting from ``state``."""
    last = state
    for _, last in states(events, state):  # noqa: B007 - the last one is the answer
        pass
    return last


class ArchiveApplication(Application[UUID]):
    # The name fixes PostgreSQL's table names (archive_events); never change it.
    name = "Archive"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_archive_transcodings(transcoder)

    def stored_events(self, aggregate_id: UUID) -> Iterator[Aggregate.Event]:
        """Every event of one aggregate, oldest first."""
        return iter(self.events.get(aggregate_id))

    def replay(
        self, aggregate_id: UUID, version: int | None = None, until: datetime | None = None
    ) -> Any | None:
        """The aggregate at ``version`` (default: the last), or as it stood at the instant
        ``until``; ``None`` if it did not exist yet."""
        events: Iterable[Aggregate.Event] = self.events.get(aggregate_id, lte=version)
        if until is not None:
            events = itertools.takewhile(lambda e: e.timestamp <= until, events)
        return fold(events)

    def head(self) -> int:
        """The id of the last notification in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0
