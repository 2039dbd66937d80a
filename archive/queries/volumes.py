"""Sealed month volumes read back from the event store, and their documents as sealed.

The ``MonthVolume`` aggregates are the authority on what a volume holds; the month projection
only indexes them. A volume's documents are loaded at the versions it sealed, whatever happened
to them afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from archive.bootstrap import Archive
from archive.errors import FieldProblem, NotFound, ValidationFailed
from archive.kinds.registry import KINDS, Kind, get_kind
from events.application import fold
from events.document import Document
from events.volume import MonthVolume, volume_label

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
KIND_ORDER = {code: index for index, code in enumerate(KINDS)}


def parse_month(text: str) -> str:
    """``2026-10`` as typed (surrounding blanks ignored); anything else is bad input."""
    month = (text or "").strip()
    if not _MONTH.fullmatch(month):
        raise ValidationFailed(
            [FieldProblem("month", f"“{text}”不是月份，请写成 2026-10", "month must be YYYY-MM")]
        )
    return month


def registry_order(kind: str, number: str) -> tuple[int, str]:
    """Sort key: kinds in registry order, then numbers."""
    return (KIND_ORDER.get(kind, len(KIND_ORDER)), number)


def sealed_volumes(archive: Archive, month: str) -> list[MonthVolume]:
    """The month's sealed volumes, main volume first, then 补1, 补2, ..."""
    volumes = []
    while True:
        volume_id = MonthVolume.create_id(month, len(volumes))
        try:  # not ``in repository``: that loads the volume, and get() would load it again
            volumes.append(archive.app.repository.get(volume_id))
        except AggregateNotFoundError:
            return volumes


def get_volume(archive: Archive, month: str, supplement: int = 0) -> MonthVolume:
    try:
        return archive.app.repository.get(MonthVolume.create_id(month, supplement))
    except AggregateNotFoundError:
        raise NotFound(
            "volume_not_found",
            f"{volume_label(month, supplement)} 尚未封存",
            f"volume {month}/{supplement} is not sealed",
        ) from None


@dataclass(frozen=True)
class BoundDocument:
    """A document as a bundle holds it: at one version, with the events that made it."""

    kind: Kind
    doc: Document
    events: tuple[Any, ...]

    def at(self, version: int) -> BoundDocument:
        """The same document at an earlier ``version``, from the events already read."""
        return _folded(self.doc.id, [e for e in self.events if e.originator_version <= version])


def bound_document(archive: Archive, doc_id: UUID, version: int | None = None) -> BoundDocument:
    """The document at ``version`` (default: now), built from its events read once."""
    events = archive.app.stored_events(doc_id)
    return _folded(
        doc_id, [e for e in events if version is None or e.originator_version <= version]
    )


def _folded(doc_id: UUID, events: list[Any]) -> BoundDocument:
    doc = fold(events)
    if doc is None:
        raise NotFound("document_not_found", "没有该单据", f"no document {doc_id}")
    return BoundDocument(get_kind(doc.kind), doc, tuple(events))


def sealed_documents(archive: Archive, volume: MonthVolume) -> list[BoundDocument]:
    """Every document of the volume at the version sealed, in the volume's order."""
    return [bound_document(archive, UUID(e["id"]), e["version"]) for e in volume.entries]
