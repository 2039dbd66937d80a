"""Inclusion proofs for the events a bundle holds, against a signed checkpoint.

A bundle's manifest carries, for each event of each bundled document (and the volume's seal),
the stored bytes of the event, its leaf in the ledger and the RFC 6962 audit path from that leaf
to the root of one signed checkpoint, with the checkpoint itself and the archive's public key.
From those alone (``archive.bundle.check``) an auditor recomputes every leaf, checks
every path against the signed root, and replays the events to the content hash on the page.

The checkpoint chosen is the earliest kept one that covers every event asked for, so binding the
same volume again gives the same proofs and the same bytes. When none covers them yet (a
document printed right after a change, or a seal made without its checkpoint), one is signed.
Nothing is proved that the store and the ledger do not agree on: a bundle is refused rather
than made to carry a proof of bytes the store no longer holds.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from archive.bootstrap import Archive
from archive.errors import ArchiveError
from archive.integrity.checkpoints import StoredCheckpoint, covering_checkpoint
from archive.integrity.keys import VerifierKey, ensure_key
from projections.ledger import LedgerEntry, placed_leaf_hash
from projections.merkle import MerkleTree

# What a manifest's ``proof`` says its leaves are, for an auditor reading it with other tools.
LEAF_FORMAT = (
    "RFC 6962 leaf SHA-256(0x00 || data); data = i64 notification_id || u32 16 || "
    "originator UUID bytes || i64 version || u32 len || topic || u32 len || state "
    "(big-endian; state is the stored bytes)"
)


class ProofUnavailable(ArchiveError):
    """The ledger cannot prove what the store holds: not witnessed, or they disagree."""


@dataclass(frozen=True)
class EventProof:
    """One stored event with its leaf and audit path, as a manifest carries it."""

    notification_id: int
    topic: str
    state: bytes
    leaf_index: int
    leaf_hash: bytes
    path: list[bytes]

    def as_dict(self) -> dict[str, Any]:
        stored: dict[str, Any]
        try:
            stored = {"state": self.state.decode()}
        except UnicodeDecodeError:
            stored = {"state_base64": _b64(self.state)}
        return {
            "notification_id": self.notification_id,
            "topic": self.topic,
            **stored,
            "leaf_index": self.leaf_index,
            "leaf_hash": _b64(self.leaf_hash),
            "inclusion_proof": [_b64(h) for h in self.path],
        }


@dataclass(frozen=True)
class Proofs:
    """The checkpoint proved against, the key that signed it, and a proof per event."""

    checkpoint: StoredCheckpoint
    key: VerifierKey
    events: dict[tuple[UUID, int], EventProof]

    def header(self) -> dict[str, Any]:
        assert self.checkpoint.parsed is not None
        body = self.checkpoint.parsed.body
        return {
            "checkpoint": self.checkpoint.note.decode("utf-8"),
            "origin": body.origin,
            "tree_size": body.size,
            "root": _b64(body.root),
            "public_key": self.key.text(),
            "leaf_format": LEAF_FORMAT,
        }


def prove_events(archive: Archive, wanted: Iterable[tuple[UUID, int]]) -> Proofs:
    """Proofs for the events (aggregate id, version) in ``wanted``."""
    wanted = sorted(set(wanted))
    key = ensure_key(archive.settings)
    with archive.ledger() as ledger:
        located = _locate(ledger.entries_of(str(i) for i, _ in wanted), wanted)
        needed = max((e.leaf_index + 1 for e in located.values()), default=0)
        checkpoint = covering_checkpoint(archive, key, needed)
        leaves = ledger.leaf_hashes()
    assert checkpoint.parsed is not None
    size, root = checkpoint.parsed.body.size, checkpoint.parsed.body.root
    tree = MerkleTree(leaves)
    if tree.size < size or tree.root(size) != root:
        raise ProofUnavailable(
            "ledger_contradicts_checkpoint",
            f"见证账本与检查点 {checkpoint.name} 不符，无法出具证明；请运行 archive verify",
            f"the ledger contradicts checkpoint {checkpoint.name}; run `archive verify`",
        )
    events = {}
    for wanted_event, stored, entry in _stored(archive, located):
        leaf = placed_leaf_hash(entry.notification_id, stored)
        if leaf != entry.leaf_hash or stored.topic != entry.topic:
            raise ProofUnavailable(
                "store_differs_from_ledger",
                f"事件库中 {stored.originator_id} 第 {stored.originator_version} 版与见证账本不符，"
                "无法出具证明；请运行 archive verify",
                f"the store's event {stored.originator_id} version {stored.originator_version} "
                "differs from the ledger's; run `archive verify`",
            )
        events[wanted_event] = EventProof(
            notification_id=entry.notification_id,
            topic=stored.topic,
            state=bytes(stored.state),
            leaf_index=entry.leaf_index,
            leaf_hash=entry.leaf_hash,
            path=tree.inclusion_proof(entry.leaf_index, size),
        )
    return Proofs(checkpoint, key, events)


def _locate(
    entries: list[LedgerEntry], wanted: list[tuple[UUID, int]]
) -> dict[tuple[UUID, int], LedgerEntry]:
    by_event = {(e.originator_id, e.version): e for e in entries}
    located = {}
    for originator_id, version in wanted:
        entry = by_event.get((str(originator_id), version))
        if entry is None:
            raise ProofUnavailable(
                "event_not_witnessed",
                f"见证账本中没有 {originator_id} 第 {version} 版的事件，无法出具证明",
                f"the ledger has not witnessed event {originator_id} version {version}",
            )
        located[(originator_id, version)] = entry
    return located


def _stored(
    archive: Archive, located: dict[tuple[UUID, int], LedgerEntry]
) -> Iterable[tuple[tuple[UUID, int], StoredEvent, LedgerEntry]]:
    """The stored events of ``located``, straight from the recorder (bytes as kept)."""
    versions: dict[UUID, set[int]] = {}
    for originator_id, version in located:
        versions.setdefault(originator_id, set()).add(version)
    for originator_id, wanted in versions.items():
        found = {
            s.originator_version: s
            for s in archive.app.recorder.select_events(originator_id)
            if s.originator_version in wanted
        }
        for version in sorted(wanted):
            if version not in found:
                raise ProofUnavailable(
                    "event_missing_from_store",
                    f"事件库中缺少 {originator_id} 第 {version} 版的事件；请运行 archive verify",
                    f"the store lacks event {originator_id} version {version}; "
                    "run `archive verify`",
                )
            yield (originator_id, version), found[version], located[(originator_id, version)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
