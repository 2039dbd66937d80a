"""``archive verify``: is the event store still what was witnessed and signed?

1. Recompute every leaf and the Merkle tree from the event store itself (never the projection).
2. Check every stored checkpoint: its signature against the archive's public key, its root
   against the recomputed root at its tree size, and its consistency with the checkpoint before
   it, by an RFC 6962 consistency proof computed from the recomputed tree.
3. Compare the recomputed leaves with the ledger's (a witness in another file) to name the first
   event that differs, and every other one.
4. Require a validly signed checkpoint over every month seal the log holds: sealing signs one
   at once, so a seal left without one means checkpoint files were deleted (or the seal's own
   checkpoint failed and none was signed since).
5. With ``witnessed`` files (:mod:`archive.integrity.witness`): checkpoints kept outside the
   archive, checked for the archive's signature, the witnesses' cosignatures and consistency.

When the two disagree, the signed checkpoints say which one to believe (``blame``): the side
whose tree matches every checkpoint is the faithful one.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.bootstrap import Archive
from archive.integrity.checkpoints import StoredCheckpoint, list_checkpoints
from archive.integrity.compare import compare
from archive.integrity.cosignature import WitnessVerifier
from archive.integrity.findings import EventName, EventNamer, Finding
from archive.integrity.keys import VerifierKey, load_verifier
from archive.integrity.store import BATCH, StoreLeaves, read_entries, read_leaves, read_one
from archive.integrity.witness import WitnessCheck, check_witnessed
from events.application import ArchiveApplication
from events.volume import MonthVolume, volume_label
from projections.ledger import Subject
from projections.merkle import MerkleTree, verify_consistency

# Events named one by one; beyond this only counted (a renumbering can move every event).
MAX_NAMED = 100


@dataclass(frozen=True)
class CheckpointCheck:
    checkpoint: StoredCheckpoint
    signature_valid: bool
    matches_store: bool | None = None  # None: not checked (bad signature, or beyond the store)
    matches_ledger: bool | None = None  # None: the ledger has fewer leaves
    consistent_with_previous: bool | None = None  # None: first, or no trustworthy proof

    def as_dict(self) -> dict[str, Any]:
        body = self.checkpoint.parsed.body if self.checkpoint.parsed else None
        return {
            "file": self.checkpoint.name,
            "size": body.size if body else None,
            "root": base64.b64encode(body.root).decode() if body else None,
            "signature_valid": self.signature_valid,
            "matches_store": self.matches_store,
            "matches_ledger": self.matches_ledger,
            "consistent_with_previous": self.consistent_with_previous,
        }


@dataclass
class VerifyReport:
    events: int
    root: bytes
    ledger_position: int
    ledger_size: int
    unwitnessed: int
    checkpoints: list[CheckpointCheck] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    differences: dict[str, int] = field(default_factory=dict)
    blame: str | None = None  # "store" or "ledger" when the checkpoints tell
    seals: int = 0  # month seals in the log, each of which needs a checkpoint over it
    witnessed: list[WitnessCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "events": self.events,
            "root": base64.b64encode(self.root).decode(),
            "ledger": {
                "position": self.ledger_position,
                "size": self.ledger_size,
                "unwitnessed": self.unwitnessed,
            },
            "checkpoints": [c.as_dict() for c in self.checkpoints],
            "seals": self.seals,
            "witnessed": [w.as_dict() for w in self.witnessed],
            "blame": self.blame,
            "differences": self.differences,
            "first": self.findings[0].as_dict() if self.findings else None,
            "findings": [f.as_dict() for f in self.findings],
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.rate),
        }


def verify(
    archive: Archive,
    batch_size: int = BATCH,
    witnessed: Sequence[Path] = (),
    witnesses: Sequence[WitnessVerifier] = (),
) -> VerifyReport:
    """Check the archive's whole history; read-only (the ledger is not caught up).

    ``witnessed``: checkpoint files kept outside the archive; ``witnesses``: the public keys
    whose cosignature each of them must carry."""
    started = time.perf_counter()
    store = read_leaves(archive.app, batch_size)
    tree = MerkleTree(store.hashes)
    ledger = archive.open_ledger()
    try:
        position = ledger.position()
        ledger_leaves = ledger.leaf_hashes()
        # Ids ascend, so the events the ledger has passed are a prefix of the store; a leaf
        # hash covers its notification id, so equal hashes mean equal positions too.
        passed = bisect.bisect_right(store.ids, position)
        in_step = ledger_leaves == store.hashes[:passed]
        ledger_tree = tree if in_step else MerkleTree(ledger_leaves)
        report = VerifyReport(
            events=tree.size,
            root=tree.root(),
            ledger_position=position,
            ledger_size=len(ledger_leaves),
            unwitnessed=tree.size - passed,
        )
        if not in_step:
            differences = compare(ledger.entries(), read_entries(archive.app, batch_size), position)
            namer = EventNamer(archive.app, ledger)
            report.findings = [namer.finding(d) for d in differences[:MAX_NAMED]]
            for d in differences:
                report.differences[d.code] = report.differences.get(d.code, 0) + 1
    finally:
        ledger.close()
    key = load_verifier(archive.settings)
    checkpoints = list_checkpoints(archive.settings)
    report.checkpoints, found = _check_checkpoints(checkpoints, key, store, tree, ledger_tree)
    report.findings += found
    # A witnessed checkpoint the log contradicts is the strongest word: it comes first.
    report.witnessed, found = check_witnessed(witnessed, key, witnesses, tree)
    report.findings += found
    report.seals = len(store.seals)
    report.findings += _uncovered_seals(archive.app, store, report.checkpoints)
    report.blame = _blame(report)
    report.seconds = time.perf_counter() - started
    return report


def _check_checkpoints(
    checkpoints: Sequence[StoredCheckpoint],
    key: VerifierKey | None,
    store: StoreLeaves,
    tree: MerkleTree,
    ledger_tree: MerkleTree,
) -> tuple[list[CheckpointCheck], list[Finding]]:
    checks: list[CheckpointCheck] = []
    found: list[Finding] = []
    if checkpoints and key is None:
        return checks, [
            Finding(
                "key_missing",
                "找不到本档案库的公钥（keys/checkpoint.vkey），无法核对检查点的签名",
                "the archive's public key (keys/checkpoint.vkey) is missing; "
                "checkpoint signatures cannot be checked",
            )
        ]
    previous: StoredCheckpoint | None = None
    last_good = 0  # the largest checkpointed size the store still matches
    for checkpoint in checkpoints:
        name, parsed = checkpoint.name, checkpoint.parsed
        if parsed is None:
            checks.append(CheckpointCheck(checkpoint, signature_valid=False))
            found.append(
                Finding(
                    "checkpoint_unreadable",
                    f"检查点文件 {name} 无法读取：{checkpoint.error}",
                    f"checkpoint file {name} cannot be read: {checkpoint.error}",
                    checkpoint=name,
                )
            )
            continue
        size, root = parsed.body.size, parsed.body.root
        if key is None or not parsed.signed_by(key):
            checks.append(CheckpointCheck(checkpoint, signature_valid=False))
            found.append(
                Finding(
                    "checkpoint_signature",
                    f"检查点 {name}（{size} 个事件）的签名不能用本档案库的公钥验证",
                    f"checkpoint {name} ({size} events) is not validly signed by the archive's key",
                    checkpoint=name,
                )
            )
            continue
        check = CheckpointCheck(
            checkpoint,
            signature_valid=True,
            matches_store=tree.root(size) == root if size <= tree.size else None,
            matches_ledger=ledger_tree.root(size) == root if size <= ledger_tree.size else None,
            consistent_with_previous=_consistent(previous, checkpoint, tree),
        )
        checks.append(check)
        if size > tree.size:
            found.append(
                Finding(
                    "checkpoint_beyond_store",
                    f"检查点 {name} 签了 {size} 个事件，"
                    f"事件库现在只有 {tree.size} 个：有事件被删除",
                    f"checkpoint {name} signed {size} events; the store now holds only "
                    f"{tree.size}: events were deleted",
                    checkpoint=name,
                )
            )
        elif not check.matches_store:
            first, last = store.ids[min(last_good, size - 1)], store.ids[size - 1]
            found.append(
                Finding(
                    "checkpoint_root",
                    f"检查点 {name}：事件库前 {size} 个事件重算的根哈希与签名的不符"
                    f"（第一处改动在第 {first}–{last} 号事件之间）",
                    f"checkpoint {name}: the root recomputed from the first {size} stored "
                    f"events differs from the signed one (the first change lies in events "
                    f"{first}..{last})",
                    checkpoint=name,
                    between=(first, last),
                )
            )
        else:
            last_good = size
        if check.consistent_with_previous is False and previous is not None:
            found.append(
                Finding(
                    "checkpoint_inconsistent",
                    f"检查点 {name} 与之前的检查点 {previous.name} 不一致：历史被改写过",
                    f"checkpoint {name} is inconsistent with the earlier checkpoint "
                    f"{previous.name}: history was rewritten",
                    checkpoint=name,
                )
            )
        previous = checkpoint
    return checks, found


def _uncovered_seals(
    app: ArchiveApplication, store: StoreLeaves, checks: Sequence[CheckpointCheck]
) -> list[Finding]:
    """A finding for each month seal that no validly signed checkpoint covers."""
    covered = max(
        (
            c.checkpoint.parsed.body.size
            for c in checks
            if c.signature_valid and c.checkpoint.parsed
        ),
        default=0,
    )
    found = []
    for index in store.seals:
        if index >= covered:
            seal = _seal_event(app, store.ids[index])
            found.append(
                Finding(
                    "seal_uncovered",
                    f"{seal.zh}封存了该卷，但没有任何有效签名的检查点覆盖它：检查点文件可能被删除；"
                    "请先用外部保存的检查点核对（archive verify --witness），"
                    "确认无误后再运行 archive checkpoint 补签",
                    f"{seal.en} sealed a volume but no validly signed checkpoint covers it: "
                    "checkpoint files may have been deleted; check against checkpoints kept "
                    "elsewhere first (archive verify --witness), then sign one "
                    "(archive checkpoint)",
                    event=seal,
                )
            )
    return found


def _seal_event(app: ArchiveApplication, position: int) -> EventName:
    """The seal at ``position``, named by its volume (``2026-10``, ``2026-10 补1``) when the
    stored event still decodes."""
    stored = read_one(app, position)
    assert stored is not None  # just read in the same pass
    subject = None
    with contextlib.suppress(Exception):  # a tampered event may not decode
        event = app.mapper.to_domain_event(stored)
        if isinstance(event, MonthVolume.Sealed):
            subject = Subject("volume", volume_label(event.month, event.supplement))
    name = stored.topic.rpartition(":")[2]
    return EventName(position, str(stored.originator_id), stored.originator_version, name, subject)


def _consistent(
    previous: StoredCheckpoint | None, current: StoredCheckpoint, tree: MerkleTree
) -> bool | None:
    """Does an RFC 6962 consistency proof, computed from the recomputed tree, take the previous
    checkpoint to this one? ``None`` when no proof can be trusted: the tree must itself match
    the newer checkpoint for its proof to say anything about the older one."""
    if previous is None or previous.parsed is None or current.parsed is None:
        return None
    old, new = previous.parsed.body, current.parsed.body
    if new.size > tree.size or tree.root(new.size) != new.root:
        return None
    proof = tree.consistency_proof(old.size, new.size)
    return verify_consistency(old.size, new.size, old.root, new.root, proof)


def _blame(report: VerifyReport) -> str | None:
    """Which side the signed checkpoints back when the store and the ledger disagree."""
    if not report.differences and not any(f.code == "checkpoint_root" for f in report.findings):
        return None
    signed = [c for c in report.checkpoints if c.signature_valid]
    store_faithful = all(c.matches_store for c in signed)
    ledger_faithful = all(c.matches_ledger is not False for c in signed)
    if signed and ledger_faithful and not store_faithful:
        return "store"
    if signed and store_faithful and not ledger_faithful:
        return "ledger"
    return None
