"""The eventsourcing ``Application`` that stores documents and staff.

Only ``archive.commands`` calls :meth:`ArchiveApplication.save`; everything else reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder

from events.transcodings import register_archive_transcodings


class ArchiveApplication(Application[UUID]):
    # The name fixes PostgreSQL's table names (archive_events); never change it.
    name = "Archive"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_archive_transcodings(transcoder)

    def stored_events(self, aggregate_id: UUID) -> Iterator[Aggregate.Event]:
        """Every event of one aggregate, oldest first."""
        return iter(self.events.get(aggregate_id))

    def get_as_of(self, aggregate_id: UUID, instant: datetime) -> Any | None:
        """The aggregate as it stood at ``instant`` (``None`` if it did not exist yet)."""
        aggregate: Any = None
        for event in self.events.get(aggregate_id):
            if event.timestamp > instant:
                break
            aggregate = event.mutate(aggregate)
        return aggregate

    def head(self) -> int:
        """The id of the last notification in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0
