"""The integrity ledger: one RFC 6962 Merkle leaf per stored event, in notification order.

The ledger is a witness. It records, as each event arrives, the hash of that event's bytes
*exactly as the database holds them*, in its own SQLite file, apart from the event store. Signed
checkpoints (``archive.integrity``) sign the root of these leaves; ``archive verify`` recomputes
the leaves from the store and compares them with the ledger's to name what changed.

Leaf data of one stored event (all integers big-endian; ``str`` fields UTF-8)::

    i64 notification id
    u32 length ‖ originator id   (a UUID's 16 bytes; any other id as UTF-8 text)
    i64 originator version
    u32 length ‖ topic           (e.g. ``events.document:Document.Signed``)
    u32 length ‖ state           (the stored bytes, untouched: no decoding, no re-encoding)

Every variable field carries its length, so no two different events share leaf data; the leaf
hash is ``SHA-256(0x00 ‖ leaf data)``. The UUID's bytes, rather than its spelling, make the
leaf the same on SQLite (32 hex digits in a text column) and PostgreSQL (a uuid column). Ids
are signed so that even a forged row with id 0 or below can be hashed and reported.

The ledger asks the runner for the stored notifications undecoded (``decodes = False``) and
commits each batch's leaves with its position. On the event that files a document (or
registers a staff member) it decodes that one event to note the kind and number (or username),
so that a report can name an event even after the store has lost it.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.utils import get_topic

from events.application import ArchiveApplication
from events.document import Document
from events.staff import Staff
from projections.runner import Batch
from projections.sqlstore import SqlBatch, SqliteProjection

_IN_CHUNK = 500  # ids per ``IN (...)``: well under SQLite's limit on bound parameters
_ID = struct.Struct(">q")
_LENGTH = struct.Struct(">I")
_UUID_HEAD = struct.Struct(">qI16sq")  # id, length 16, the UUID's bytes, version


def leaf_data(notification: Notification) -> bytes:
    """The canonical bytes of one stored event (see the module docstring)."""
    state = _state(notification)
    return _leaf_head(notification, len(state)) + state


def event_leaf_hash(notification: Notification) -> bytes:
    """``SHA-256(0x00 ‖ leaf data)``: the RFC 6962 leaf hash of one stored event.

    ``archive verify`` calls this for every event, so the state is fed to SHA-256 as it is
    rather than copied into one buffer with the rest.
    """
    state = _state(notification)
    digest = hashlib.sha256(b"\x00" + _leaf_head(notification, len(state)))
    digest.update(state)
    return digest.digest()


def placed_leaf_hash(notification_id: int, stored: StoredEvent) -> bytes:
    """The leaf hash of a stored event at position ``notification_id`` in the log: for events
    read by aggregate (which carry no position) or carried in a bundle's manifest."""
    return event_leaf_hash(
        Notification(
            id=notification_id,
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=stored.state,
        )
    )


def _leaf_head(notification: Notification, state_length: int) -> bytes:
    """Every field of the leaf data up to the state's length prefix, inclusive."""
    originator = notification.originator_id
    if isinstance(originator, UUID):
        head = _UUID_HEAD.pack(
            notification.id, 16, originator.bytes, notification.originator_version
        )
    else:
        text = str(originator).encode()
        head = b"".join(
            (
                _ID.pack(notification.id),
                _LENGTH.pack(len(text)),
                text,
                _ID.pack(notification.originator_version),
            )
        )
    return head + _topic_field(notification.topic) + _LENGTH.pack(state_length)


@functools.lru_cache(maxsize=1024)
def _topic_field(topic: str) -> bytes:
    """Length and UTF-8 of a topic; an archive has a few dozen topics, each seen many times."""
    encoded = topic.encode()
    return _LENGTH.pack(len(encoded)) + encoded


def _state(notification: Notification) -> bytes:
    state = notification.state
    # SQLite hands back TEXT if someone wrote text into the column; hash what is there.
    return state.encode() if isinstance(state, str) else bytes(state)


@dataclass(frozen=True)
class LedgerEntry:
    """One witnessed event: where it was, whose it was, and the hash of its stored bytes."""

    leaf_index: int
    notification_id: int
    originator_id: str
    version: int
    topic: str
    leaf_hash: bytes


@dataclass(frozen=True)
class Subject:
    """What an originator id stands for: a document (kind, number) or staff (``staff``, user)."""

    kind: str
    number: str


class Ledger(SqliteProjection):
    name = "ledger"
    decodes = False
    rebuilt_with_all = False
    tables = {  # noqa: RUF012
        # ``kind`` and ``number`` only on the event that creates a document or staff member.
        "ledger_leaves": (
            "CREATE TABLE IF NOT EXISTS ledger_leaves ("
            " leaf_index INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL UNIQUE,"
            " originator_id TEXT NOT NULL, version INTEGER NOT NULL, topic TEXT NOT NULL,"
            " leaf_hash BLOB NOT NULL, kind TEXT, number TEXT)"
        ),
    }

    def __init__(self, path: Path, app: ArchiveApplication) -> None:
        super().__init__(path)
        self.app = app

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        """Nothing per event: :meth:`finish_batch` writes the whole batch in one statement."""

    def finish_batch(self, batch: Batch, events: Sequence[tuple[int, Any]]) -> None:
        assert isinstance(batch, SqlBatch)
        (next_index,) = batch.conn.execute(
            "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves"
        ).fetchone()
        rows = []
        for offset, (_, n) in enumerate(events):
            subject = None
            if n.topic in CREATION_TOPICS:
                subject = subject_of(self.app.mapper.to_domain_event(n))
            rows.append(
                (
                    next_index + offset,
                    n.id,
                    str(n.originator_id),
                    n.originator_version,
                    n.topic,
                    event_leaf_hash(n),
                    subject.kind if subject else None,
                    subject.number if subject else None,
                )
            )
        batch.conn.executemany("INSERT INTO ledger_leaves VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    # -- reading ----------------------------------------------------------------------------

    def leaf_hashes(self) -> list[bytes]:
        """Every leaf hash in leaf order (plain tuples, not rows: verification reads them all)."""
        rows = self.query_values("SELECT leaf_hash FROM ledger_leaves ORDER BY leaf_index")
        return [bytes(row[0]) for row in rows]

    def entries(self) -> list[LedgerEntry]:
        rows = self.query(
            "SELECT leaf_index, notification_id, originator_id, version, topic, leaf_hash"
            " FROM ledger_leaves ORDER BY leaf_index"
        )
        return [LedgerEntry(*r) for r in rows]

    def entries_of(self, originator_ids: Iterable[str]) -> list[LedgerEntry]:
        """The entries of these aggregates only (a bundle's few among the whole log)."""
        wanted = sorted(set(originator_ids))
        found: list[LedgerEntry] = []
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            rows = self.query(
                "SELECT leaf_index, notification_id, originator_id, version, topic, leaf_hash"
                f" FROM ledger_leaves WHERE originator_id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            found += [LedgerEntry(*r) for r in rows]
        return found

    def subjects(self) -> dict[str, Subject]:
        """Originator id → the document or staff member, for every creation witnessed."""
        rows = self.query(
            "SELECT originator_id, kind, number FROM ledger_leaves WHERE kind IS NOT NULL"
        )
        return {r[0]: Subject(r[1], r[2]) for r in rows}


CREATION_TOPICS = frozenset({get_topic(Document.Filed), get_topic(Staff.Registered)})


def subject_of(event: Any) -> Subject | None:
    """The document or staff member an event creates, if it is a creation event."""
    if isinstance(event, Document.Filed):
        return Subject(event.kind, event.number)
    if isinstance(event, Staff.Registered):
        return Subject("staff", event.username)
    return None
