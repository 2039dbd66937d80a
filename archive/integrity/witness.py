"""Checkpoints kept outside the archive: exported for safekeeping, checked when they come back.

Checkpoints under ``$ARCHIVE_HOME/checkpoints/`` sit on the same disk as the event store: who
can rewrite the store and the ledger can delete them too. Copies kept elsewhere (a USB stick in
the manager's safe, the service centre's mail archive), ideally cosigned by a witness key that
never touches the archive's machine (:mod:`archive.integrity.cosignature`), still bind the
archive: ``archive verify --witness FILE`` checks that the current log extends every one of them.

For each witnessed file: the archive's signature; each named witness's cosignature; and an RFC
6962 consistency proof, computed from the tree recomputed from the store, from the witnessed
size and root to the current tree. A history rewritten since, however consistently store and
ledger were edited, fails that proof.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.bootstrap import Archive
from archive.config import Settings
from archive.errors import BadInput, Conflict, NotFound
from archive.integrity.checkpoints import SUFFIX, StoredCheckpoint, list_checkpoints
from archive.integrity.cosignature import Cosignature, WitnessVerifier
from archive.integrity.cosigner import AddCheckpoint, is_request, parse_request
from archive.integrity.files import durable_draft
from archive.integrity.findings import Finding
from archive.integrity.keys import VerifierKey
from archive.integrity.notes import BadNote, Checkpoint, parse_checkpoint
from projections.merkle import MerkleTree, verify_consistency

# What a folder given to ``verify --witness`` is searched for: the names ``export`` writes, and
# a request (``export -o X.request --since``) sent back cosigned in place, as the README's
# monthly round does. A request not yet cosigned is read too: it carries the signed note.
WITNESSED_SUFFIXES = (SUFFIX, ".request")


class ExportRefused(Conflict):
    """An export would overwrite a different file of the same name."""


# -- export ------------------------------------------------------------------------------------


def signed_checkpoints(settings: Settings, key: VerifierKey | None) -> list[StoredCheckpoint]:
    """Every kept checkpoint validly signed by ``key``, oldest first."""
    return [
        c
        for c in list_checkpoints(settings)
        if key is not None and c.parsed is not None and c.parsed.signed_by(key)
    ]


def latest_checkpoint(settings: Settings, key: VerifierKey | None) -> StoredCheckpoint:
    found = signed_checkpoints(settings, key)
    if not found:
        raise NotFound(
            "no_checkpoint",
            "还没有有效签名的检查点：请先运行 archive checkpoint",
            "no validly signed checkpoint yet; run `archive checkpoint`",
        )
    return found[-1]


def export_to_folder(settings: Settings, key: VerifierKey | None, folder: Path) -> list[Path]:
    """Copy every signed checkpoint into ``folder`` under its own name; return those written.

    A copy already there with the same bytes is left as it is (exporting every month into the
    same folder adds only the new ones); a different file of the same name is never replaced.
    """
    found = signed_checkpoints(settings, key)
    if not found:
        latest_checkpoint(settings, key)  # raises: nothing to export
    written = []
    for checkpoint in found:
        if write_once(folder / checkpoint.name, checkpoint.note):
            written.append(folder / checkpoint.name)
    return written


def witness_request(archive: Archive, key: VerifierKey | None, since: bytes) -> str:
    """The newest checkpoint as a tlog-witness ``add-checkpoint`` request: with the RFC 6962
    consistency proof from ``since`` (the checkpoint the witness cosigned last) to it.

    Refused when ``since`` is not this archive's or the ledger contradicts it: that is for
    ``archive verify --witness`` to explain, not for a witness to be asked about.
    """
    newest = latest_checkpoint(archive.settings, key)
    assert newest.parsed is not None
    try:
        old = parse_checkpoint(since)
    except BadNote as error:
        raise BadInput(
            "bad_checkpoint",
            f"--since 不是格式正确的检查点：{error}",
            f"--since is not a well-formed checkpoint: {error}",
        ) from None
    with archive.ledger() as ledger:
        tree = MerkleTree(ledger.leaf_hashes())
    new = newest.parsed.body
    if key is None or not old.signed_by(key) or old.body.size > new.size:
        raise BadInput(
            "since_not_ours",
            "--since 的检查点不是本档案库签的，或比最新的检查点还大",
            "--since is not signed by this archive, or is larger than the newest checkpoint",
        )
    if (
        tree.size < new.size
        or tree.root(new.size) != new.root
        or (tree.root(old.body.size) != old.body.root)
    ):
        raise Conflict(
            "ledger_contradicts_checkpoint",
            "见证账本与检查点不一致，无法出具一致性证明；请运行 archive verify --witness",
            "the ledger contradicts a checkpoint; run `archive verify --witness`",
        )
    proof = tree.consistency_proof(old.body.size, new.size) if old.body.size else []
    note = newest.note.decode("utf-8")
    return AddCheckpoint(old.body.size, proof, note).text()


def write_once(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless the same bytes are there; True when written."""
    if path.exists():
        if path.read_bytes() == data:
            return False
        raise ExportRefused(
            "export_exists",
            f"{path} 已存在且内容不同，不会覆盖：请换一个文件名或文件夹",
            f"{path} exists with other contents and is not overwritten; choose another name",
        )
    with durable_draft(path.parent, path.name, data.decode("utf-8")) as draft:
        try:
            os.link(draft, path)
        except FileExistsError:  # written at this moment by another export
            raise ExportRefused(
                "export_exists", f"{path} 刚被写入，请重试", f"{path} was just written; retry"
            ) from None
    return True


# -- checking witnessed copies -----------------------------------------------------------------


@dataclass(frozen=True)
class WitnessCheck:
    """One witnessed checkpoint file and what was found of it."""

    file: str
    size: int | None = None
    root: bytes | None = None
    signature_valid: bool = False
    cosignatures: list[Cosignature] = field(default_factory=list)
    consistent: bool | None = None  # None: not checked (unreadable, unsigned, or beyond the log)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "size": self.size,
            "root": base64.b64encode(self.root).decode() if self.root else None,
            "signature_valid": self.signature_valid,
            "cosignatures": [
                {"witness": c.name, "time": c.time.isoformat(), "valid": c.valid}
                for c in self.cosignatures
            ],
            "consistent": self.consistent,
            "error": self.error,
        }


def check_witnessed(
    paths: Sequence[Path],
    key: VerifierKey | None,
    witnesses: Sequence[WitnessVerifier],
    tree: MerkleTree,
) -> tuple[list[WitnessCheck], list[Finding]]:
    """Check each witnessed checkpoint file (a folder: each ``*.checkpoint`` and ``*.request``
    in it, see :func:`witness_files`) against the archive's key, the witnesses'
    keys and the tree recomputed from the store."""
    checks: list[WitnessCheck] = []
    found: list[Finding] = []
    for path in witness_files(paths):
        name = str(path)
        try:
            data = path.read_bytes()
            parsed = parse_checkpoint(parse_request(data).note if is_request(data) else data)
        except (OSError, BadNote) as error:
            checks.append(WitnessCheck(name, error=str(error)))
            found.append(
                Finding(
                    "witness_unreadable",
                    f"外部保存的检查点 {name} 无法读取：{error}",
                    f"witnessed checkpoint {name} cannot be read: {error}",
                    checkpoint=name,
                )
            )
            continue
        check, problems = _check_one(name, parsed, key, witnesses, tree)
        checks.append(check)
        found += problems
    return checks, found


def witness_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, each folder replaced by its ``*.checkpoint`` and ``*.request`` files.
    A folder without any is a mistake in the command, not evidence of tampering: refused
    rather than silently checking nothing. A file named that is missing stays, to be reported:
    a kept checkpoint that is gone is a finding."""
    files = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in WITNESSED_SUFFIXES)
        if not inside:
            raise BadInput(
                "witness_folder_empty",
                f"文件夹 {path} 中没有检查点文件（*{SUFFIX} 或 *.request）：请给出检查点文件"
                f"本身，或把它们改名为 *{SUFFIX}",
                f"folder {path} holds no checkpoint files (*{SUFFIX} or *.request): name the "
                f"files themselves, or rename them *{SUFFIX}",
            )
        files += inside
    return files


def _check_one(
    name: str,
    parsed: Checkpoint,
    key: VerifierKey | None,
    witnesses: Sequence[WitnessVerifier],
    tree: MerkleTree,
) -> tuple[WitnessCheck, list[Finding]]:
    size, root = parsed.body.size, parsed.body.root
    found: list[Finding] = []
    cosignatures = [c for w in witnesses for c in w.cosignatures(parsed.note)]
    for witness in witnesses:
        mine = [c for c in cosignatures if c.name == witness.name]
        if not mine or not all(c.valid for c in mine):
            found.append(
                Finding(
                    "witness_not_cosigned",
                    f"外部保存的检查点 {name} 没有见证人 {witness.name} 的有效副签",
                    f"witnessed checkpoint {name} carries no valid cosignature of {witness.name}",
                    checkpoint=name,
                )
            )
    signed = key is not None and parsed.signed_by(key)
    if not signed:
        found.append(
            Finding(
                "witness_signature",
                f"外部保存的检查点 {name}（{size} 个事件）不是本档案库的密钥签的",
                f"witnessed checkpoint {name} ({size} events) is not signed by the archive's key",
                checkpoint=name,
            )
        )
        return WitnessCheck(name, size, root, False, cosignatures), found
    if size > tree.size:
        found.append(
            Finding(
                "witness_beyond_store",
                f"外部保存的检查点 {name} 签了 {size} 个事件，"
                f"事件库现在只有 {tree.size} 个：有事件被删除",
                f"witnessed checkpoint {name} signed {size} events; the store now holds only "
                f"{tree.size}: events were deleted",
                checkpoint=name,
            )
        )
        return WitnessCheck(name, size, root, True, cosignatures), found
    proof = tree.consistency_proof(size, tree.size)
    consistent = tree.root(size) == root and verify_consistency(
        size, tree.size, root, tree.root(), proof
    )
    if not consistent:
        found.append(
            Finding(
                "witness_inconsistent",
                f"现在的事件库与外部保存的检查点 {name}（{size} 个事件）不一致：历史被改写过",
                f"the current log is not consistent with witnessed checkpoint {name} "
                f"({size} events): history was rewritten",
                checkpoint=name,
            )
        )
    return WitnessCheck(name, size, root, True, cosignatures, consistent), found
