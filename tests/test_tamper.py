"""Tampering with the event store behind the application's back is found and named.

Each test files a small demo month, lets the ledger witness it, signs a checkpoint, then does
what someone with database access could do, with direct SQL on the event table (SQLite
``stored_events`` in ``archive.db``; PostgreSQL ``archive_events``), and checks that
``verify`` refuses the archive and names the event: position, document and version.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import Notification

from archive import commands
from archive.bootstrap import Archive
from archive.config import Settings
from archive.demo import STAFF, DemoSpec, generate, load, work_order_rows
from archive.integrity import ensure_key, list_checkpoints, make_checkpoint, verify
from archive.integrity.checkpoints import CheckpointRefused
from archive.integrity.keys import PRIVATE_FILE, PUBLIC_FILE
from events.document import Document
from projections.ledger import event_leaf_hash, leaf_data
from projections.merkle import MerkleTree, verify_consistency
from projections.runner import LogReader, catch_up

SMALL = DemoSpec(month="2026-10", work_orders=12)


class RawStore:
    """The event table reached with plain SQL, as an intruder with database access would."""

    def __init__(self, settings: Settings) -> None:
        self.conn: Any
        if settings.database_url:
            self.conn = psycopg.connect(settings.database_url, autocommit=True)
            self.table, self.id, self.mark = "archive_events", "notification_id", "%s"
        else:
            self.conn = sqlite3.connect(settings.layout.events_db, isolation_level=None)
            self.table, self.id, self.mark = "stored_events", "rowid", "?"

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        text = statement.format(table=self.table, id=self.id).replace("?", self.mark)
        cursor = self.conn.execute(text, params)
        return list(cursor.fetchall()) if cursor.description else []

    def row(self, notification_id: int) -> tuple[Any, int, str, bytes]:
        """(originator id as stored, version, topic, state) of one event."""
        (found,) = self.sql(
            "SELECT originator_id, originator_version, topic, state FROM {table} WHERE {id} = ?",
            notification_id,
        )
        return found[0], found[1], found[2], bytes(found[3])

    def set_state(self, notification_id: int, state: bytes) -> None:
        self.sql("UPDATE {table} SET state = ? WHERE {id} = ?", state, notification_id)

    def delete(self, notification_id: int) -> None:
        self.sql("DELETE FROM {table} WHERE {id} = ?", notification_id)

    def renumber(self, notification_id: int, new_id: int) -> None:
        self.sql("UPDATE {table} SET {id} = ? WHERE {id} = ?", new_id, notification_id)

    def make_room_after(self, notification_id: int) -> None:
        """Shift every later event one position up (in two steps: ids stay unique)."""
        self.sql("UPDATE {table} SET {id} = -({id} + 1) WHERE {id} > ?", notification_id)
        self.sql("UPDATE {table} SET {id} = -{id} WHERE {id} < 0")

    def insert(self, notification_id: int, originator: Any, version: int, topic: str, state: bytes):
        self.sql(
            "INSERT INTO {table} ({id}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            notification_id,
            originator,
            version,
            topic,
            state,
        )

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def sealed(archive: Archive) -> Archive:
    """A demo month, witnessed by the ledger and signed in a checkpoint, on each store."""
    load(archive, generate(SMALL))
    ensure_key(archive.settings)
    make_checkpoint(archive)
    return archive


@pytest.fixture
def raw(sealed: Archive) -> Iterator[RawStore]:
    store = RawStore(sealed.settings)
    try:
        yield store
    finally:
        store.close()


def document_events(archive: Archive, suffix: str, after: int) -> list[tuple[int, Document]]:
    """(notification id, current document) of the document events ending in ``suffix``."""
    found = []
    for n in archive.app.recorder.select_notifications(start=after, limit=1000):
        if n.topic.endswith(suffix):
            found.append((n.id, archive.app.repository.get(n.originator_id)))
    return found


def version_of(archive: Archive, notification_id: int) -> int:
    (n,) = archive.app.recorder.select_notifications(start=notification_id, limit=1)
    return n.originator_version


def first_finding(archive: Archive) -> dict[str, Any]:
    report = verify(archive)
    assert not report.intact
    assert report.blame == "store"
    assert {f.code for f in report.findings} & {"checkpoint_root", "checkpoint_beyond_store"}
    return report.findings[0].as_dict()


# -- intact ---------------------------------------------------------------------------------


def test_an_untouched_archive_verifies_clean(sealed: Archive) -> None:
    report = verify(sealed)
    assert report.intact, [f.message_en for f in report.findings]
    head = sealed.app.head()
    assert report.events == report.ledger_size == report.ledger_position == head > 100
    assert report.unwitnessed == 0
    (check,) = report.checkpoints
    assert check.signature_valid and check.matches_store and check.matches_ledger
    assert check.checkpoint.parsed is not None and check.checkpoint.parsed.body.size == head


def test_checkpoints_before_and_after_more_filings_are_consistent(
    sealed: Archive, clock: Any
) -> None:
    clock.advance(days=30)
    rows = work_order_rows(5, seed=9, month="2026-11")
    commands.file_batch(sealed, "work_order", enumerate(rows, start=2), STAFF[0].username)
    make_checkpoint(sealed)
    report = verify(sealed)
    assert report.intact, [f.message_en for f in report.findings]
    older, newer = report.checkpoints
    assert newer.consistent_with_previous is True
    old_body = older.checkpoint.parsed.body  # type: ignore[union-attr]
    new_body = newer.checkpoint.parsed.body  # type: ignore[union-attr]
    assert new_body.size == old_body.size + 5 == sealed.app.head()
    # The proof the verification relies on, checked on its own, and refused for a forged root.
    ledger = sealed.open_ledger()
    try:
        tree = MerkleTree(ledger.leaf_hashes())
    finally:
        ledger.close()
    proof = tree.consistency_proof(old_body.size)
    assert verify_consistency(old_body.size, new_body.size, old_body.root, new_body.root, proof)
    forged = bytes([old_body.root[0] ^ 1]) + old_body.root[1:]
    assert not verify_consistency(old_body.size, new_body.size, forged, new_body.root, proof)


# -- tampered --------------------------------------------------------------------------------


def test_one_changed_byte_is_named(sealed: Archive, raw: RawStore) -> None:
    position, doc = document_events(sealed, "Document.Signed", sealed.app.head() // 2)[0]
    state = bytearray(raw.row(position)[3])
    state[len(state) // 2] ^= 0x01
    raw.set_state(position, bytes(state))
    finding = first_finding(sealed)
    assert finding["code"] == "changed"
    assert finding["notification_id"] == position
    assert (finding["kind"], finding["number"]) == (doc.kind, doc.number)
    assert finding["version"] == version_of(sealed, position)
    assert finding["event"] == "Document.Signed"
    assert f"第 {position} 号事件" in finding["message_zh"] and doc.number in finding["message_zh"]


def test_a_deleted_event_is_named(sealed: Archive, raw: RawStore) -> None:
    position, doc = document_events(sealed, "Document.Signed", sealed.app.head() // 3)[0]
    version = version_of(sealed, position)
    raw.delete(position)
    finding = first_finding(sealed)
    assert finding["code"] == "deleted"
    assert (finding["notification_id"], finding["number"], finding["version"]) == (
        position,
        doc.number,
        version,
    )


def test_swapped_states_name_both_events(sealed: Archive, raw: RawStore) -> None:
    signed = document_events(sealed, "Document.Signed", sealed.app.head() // 2)
    (a, doc_a), (b, doc_b) = signed[0], next(s for s in signed if s[1].id != signed[0][1].id)
    state_a, state_b = raw.row(a)[3], raw.row(b)[3]
    raw.set_state(a, state_b)
    raw.set_state(b, state_a)
    report = verify(sealed)
    named = [f.as_dict() for f in report.findings if f.code == "changed"]
    assert [(f["notification_id"], f["number"]) for f in named] == [
        (a, doc_a.number),
        (b, doc_b.number),
    ]
    assert report.findings[0].as_dict()["notification_id"] == a


def test_swapped_positions_are_named_as_moves(sealed: Archive, raw: RawStore) -> None:
    filed = document_events(sealed, "Document.Filed", sealed.app.head() // 2)
    (a, doc_a), (b, doc_b) = filed[0], filed[1]
    raw.renumber(a, -1)
    raw.renumber(b, a)
    raw.renumber(-1, b)
    finding = first_finding(sealed)
    assert (finding["code"], finding["notification_id"], finding["moved_to"]) == ("moved", a, b)
    assert finding["number"] == doc_a.number
    second = verify(sealed).findings[1].as_dict()
    assert (second["notification_id"], second["moved_to"], second["number"]) == (
        b,
        a,
        doc_b.number,
    )


def test_a_forged_event_slipped_into_the_log_is_named(sealed: Archive, raw: RawStore) -> None:
    """A backdated void of a document, put among the old events by renumbering the later ones."""
    head = sealed.app.head()
    void_at = document_events(sealed, "Document.Voided", 0)[0][0]
    _, _, void_topic, void_state = raw.row(void_at)
    at, victim = document_events(sealed, "Document.Filed", head // 4)[0]
    originator = raw.row(at)[0]
    version = victim.version + 1
    raw.make_room_after(at)
    raw.insert(at + 1, originator, version, void_topic, void_state)
    assert sealed.app.repository.get(victim.id).voided is not None  # the forgery takes effect
    finding = first_finding(sealed)
    assert (finding["code"], finding["notification_id"]) == ("inserted", at + 1)
    assert (finding["number"], finding["version"], finding["event"]) == (
        victim.number,
        version,
        "Document.Voided",
    )
    assert verify(sealed).differences == {"inserted": 1, "moved": head - at}


def test_a_forged_event_below_the_log_is_found(sealed: Archive, raw: RawStore) -> None:
    """Id 0 is never read by anyone following the log, yet the aggregate would load it."""
    _, _, void_topic, void_state = raw.row(document_events(sealed, "Document.Voided", 0)[0][0])
    at, victim = document_events(sealed, "Document.Filed", 10)[0]
    raw.insert(0, raw.row(at)[0], victim.version + 1, void_topic, void_state)
    finding = verify(sealed).findings[0].as_dict()
    assert (finding["code"], finding["notification_id"], finding["number"]) == (
        "inserted",
        0,
        victim.number,
    )


def test_a_replaced_key_fails_every_old_checkpoint(sealed: Archive) -> None:
    (old,) = list_checkpoints(sealed.settings)
    for name in (PRIVATE_FILE, PUBLIC_FILE):
        (sealed.settings.layout.keys / name).unlink()
    ensure_key(sealed.settings)  # a new pair on disk
    if sealed.settings.database_url:
        # Checkpoints in the shared database are one chain under one key: the new key may
        # not start a second one beside it, and the refusal writes nothing.
        with pytest.raises(CheckpointRefused) as refused:
            make_checkpoint(sealed)
        assert refused.value.code == "foreign_checkpoint_key"
        assert [c.name for c in list_checkpoints(sealed.settings)] == [old.name]
        signed_now: list[str] = []
    else:
        signed_now = [make_checkpoint(sealed).name]
    report = verify(sealed)
    assert not report.intact
    assert [(f.code, f.checkpoint) for f in report.findings] == [("checkpoint_signature", old.name)]
    assert [c.signature_valid for c in report.checkpoints] == [False] + [True] * len(signed_now)
    assert [c.checkpoint.name for c in report.checkpoints] == [old.name, *signed_now]


# -- which witness to believe ------------------------------------------------------------------


def test_a_tamper_laundered_into_a_rebuilt_ledger_is_still_caught(
    sealed: Archive, raw: RawStore
) -> None:
    position, _ = document_events(sealed, "Document.Amended", 0)[0]
    raw.set_state(position, raw.row(position)[3].replace(b'"reason"', b'"REASON"'))
    ledger = sealed.open_ledger()
    try:
        ledger.reset()
        catch_up(ledger, LogReader(sealed.app))
    finally:
        ledger.close()
    report = verify(sealed)
    assert [f.code for f in report.findings] == ["checkpoint_root"]
    between = report.findings[0].between
    assert between is not None and between[0] <= position <= between[1]


def test_a_damaged_ledger_is_blamed_and_not_the_store(sealed: Archive) -> None:
    position = sealed.app.head() // 2
    ledger = sealed.open_ledger()  # its file, or its schema of the shared database
    try:
        ledger.conn.execute(
            "UPDATE ledger_leaves SET leaf_hash = ? WHERE notification_id = ?",
            (bytes(32), position),
        )
    finally:
        ledger.close()
    report = verify(sealed)
    assert report.blame == "ledger"
    assert [(f.code, f.as_dict()["notification_id"]) for f in report.findings] == [
        ("changed", position)
    ]


def test_the_leaf_is_the_documented_encoding() -> None:
    """Length-prefixed fields, the UUID as its 16 bytes (so SQLite and PostgreSQL agree)."""
    uuid = UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    note = Notification(id=7, originator_id=uuid, originator_version=2, topic="t", state=b"{}")
    data = leaf_data(note)
    assert data == (
        (7).to_bytes(8, "big")
        + (16).to_bytes(4, "big")
        + uuid.bytes
        + (2).to_bytes(8, "big")
        + (1).to_bytes(4, "big")
        + b"t"
        + (2).to_bytes(4, "big")
        + b"{}"
    )
    assert event_leaf_hash(note) == hashlib.sha256(b"\x00" + data).digest()
