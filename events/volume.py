"""The ``MonthVolume`` aggregate: one sealed binding of a month's documents.

A volume exists only once it is sealed, so its one event is the event that creates it, and it
has no method that could change it: a sealed volume never changes and cannot be unsealed. Its
id derives from (month, supplement number), so each volume is sealed once; supplement 0 is the
month's main volume, 1 is "补1" (documents that arrived after the main volume was sealed), ...

The ``Sealed`` event records, for every document in the volume, its id, kind, number, the
aggregate version sealed and the content hash of that version, and the SHA-256 of that list
in canonical JSON (:func:`list_hash`), so anyone holding the list can check it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

VOLUME_NAMESPACE = uuid5(NAMESPACE_URL, "urn:dealer-archive:month-volume")


def list_hash(entries: list[dict[str, Any]]) -> str:
    """Hex SHA-256 of the entries as UTF-8 JSON, keys sorted, no insignificant white space."""
    text = json.dumps(entries, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def volume_label(month: str, supplement: int) -> str:
    """``2026-10`` for the main volume, ``2026-10 补1`` for the first supplement."""
    return month if supplement == 0 else f"{month} 补{supplement}"


class MonthVolume(Aggregate):
    @staticmethod
    def create_id(month: str, supplement: int) -> UUID:
        return uuid5(VOLUME_NAMESPACE, f"{month}/{supplement}")

    class Sealed(Aggregate.Created):
        month: str
        supplement: int
        entries: list[dict[str, Any]]
        list_hash: str
        actor: str
        forced_reason: str | None
        # What was still open when a seal was forced (empty otherwise), for the audit trail.
        open_blockers: list[dict[str, Any]]

    def __init__(
        self,
        month: str,
        supplement: int,
        entries: list[dict[str, Any]],
        list_hash: str,
        actor: str,
        forced_reason: str | None,
        open_blockers: list[dict[str, Any]],
    ) -> None:
        self.month = month
        self.supplement = supplement
        self.entries = [dict(e) for e in entries]
        self.list_hash = list_hash
        self.sealed_by = actor
        self.sealed_at: datetime = self.created_on
        self.forced_reason = forced_reason
        self.open_blockers = [dict(b) for b in open_blockers]

    @classmethod
    def seal(
        cls,
        month: str,
        supplement: int,
        entries: list[dict[str, Any]],
        actor: str,
        at: datetime,
        forced_reason: str | None = None,
        open_blockers: list[dict[str, Any]] | None = None,
    ) -> MonthVolume:
        """Seal ``entries`` (each: id, kind, number, version, content_hash) as a new volume."""
        return cls._create(
            cls.Sealed,
            id=cls.create_id(month, supplement),
            month=month,
            supplement=supplement,
            entries=entries,
            list_hash=list_hash(entries),
            actor=actor,
            forced_reason=forced_reason,
            open_blockers=open_blockers or [],
            timestamp=at,
        )

    @property
    def label(self) -> str:
        return volume_label(self.month, self.supplement)

    def document_ids(self) -> set[str]:
        return {e["id"] for e in self.entries}
