"""Reading the event store itself, in notification order, for verification.

Verification never trusts a projection for what the store holds: it reads every notification
straight from the recorder, in batches, and hashes the stored bytes as the ledger does
(``projections.ledger.event_leaf_hash``). The first batch is read with no lower bound, so a
forged row with id 0 or below, which no log reader would ever see, is hashed too.

The same pass notes where the log seals month volumes: ``archive verify`` requires a signed
checkpoint over each seal, so the checkpoints a log must have follow from the log itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from archive.errors import ArchiveError
from events.application import ArchiveApplication
from events.volume import MonthVolume
from projections.ledger import event_leaf_hash

BATCH = 5000
SEALED_TOPIC = get_topic(MonthVolume.Sealed)


class StoreUnreadable(ArchiveError):
    """A stored row the recorder cannot turn into a notification (exit 1, like tampering)."""


@dataclass(frozen=True)
class StoreLeaves:
    """Notification ids and leaf hashes of every stored event, in notification order."""

    ids: list[int]
    hashes: list[bytes]
    seals: list[int] = field(default_factory=list)  # leaf indexes of ``MonthVolume.Sealed``


@dataclass(frozen=True)
class StoredEntry:
    """One stored event as the comparison with the ledger needs it."""

    notification_id: int
    originator_id: str
    version: int
    topic: str
    leaf_hash: bytes


def read_leaves(app: ArchiveApplication, batch_size: int = BATCH) -> StoreLeaves:
    """The fast pass: ids and leaf hashes only."""
    ids: list[int] = []
    hashes: list[bytes] = []
    seals: list[int] = []
    for batch in notifications(app, batch_size):
        seals.extend(len(ids) + i for i, n in enumerate(batch) if n.topic == SEALED_TOPIC)
        ids.extend(n.id for n in batch)
        hashes.extend(map(event_leaf_hash, batch))
    return StoreLeaves(ids, hashes, seals)


def read_entries(app: ArchiveApplication, batch_size: int = BATCH) -> list[StoredEntry]:
    """The second pass, only when the store and the ledger disagree: who each event belongs to."""
    return [
        StoredEntry(n.id, str(n.originator_id), n.originator_version, n.topic, event_leaf_hash(n))
        for batch in notifications(app, batch_size)
        for n in batch
    ]


def read_one(app: ArchiveApplication, notification_id: int) -> Notification | None:
    found = app.recorder.select_notifications(start=notification_id, limit=1, stop=notification_id)
    return found[0] if found else None


def notifications(app: ArchiveApplication, batch_size: int) -> Iterator[Sequence[Notification]]:
    select = app.recorder.select_notifications
    after: int | None = None
    while True:
        try:
            batch = (
                select(start=None, limit=batch_size)
                if after is None
                else select(start=after, limit=batch_size, inclusive_of_start=False)
            )
        except ValueError as error:  # e.g. an originator id that is no longer a UUID
            raise StoreUnreadable(
                "store_unreadable",
                f"事件库在第 {after or 0} 号事件之后无法读取，可能被改动过：{error}",
                f"the event store cannot be read after event {after or 0}, "
                f"it may have been tampered with: {error}",
            ) from None
        if not batch:
            return
        yield batch
        after = batch[-1].id
