"""Signed checkpoints of the ledger, kept as files under ``$ARCHIVE_HOME/checkpoints/``.

:func:`make_checkpoint` brings the ledger up to the log's head and signs the root of everything
it has witnessed. Every checkpoint is kept: a file named by tree size and UTC time
(``000000001234-20261103T010000Z.checkpoint``), written once and never overwritten, so that the
chain of checkpoints shows the archive only ever grew. ``archive checkpoint`` makes one on
demand; sealing a month makes one too.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.bootstrap import Archive
from archive.config import Settings, exclusive
from archive.errors import ArchiveError
from archive.integrity.files import durable_draft
from archive.integrity.keys import VerifierKey, ensure_key, load_signer
from archive.integrity.notes import (
    BadNote,
    Checkpoint,
    CheckpointBody,
    parse_checkpoint,
    sign_checkpoint,
)
from projections.merkle import MerkleTree

SUFFIX = ".checkpoint"
_NAME = re.compile(r"(\d+)-(\d{8}T\d{6}Z)(?:-(\d+))?" + re.escape(SUFFIX))


class CheckpointRefused(ArchiveError):
    """Signing would contradict a checkpoint already signed."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """One checkpoint file: its note, or why it cannot be read."""

    path: Path
    created: datetime | None
    parsed: Checkpoint | None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def sort_key(self) -> tuple[int, datetime, int]:
        size = self.parsed.body.size if self.parsed else -1
        match = _NAME.fullmatch(self.name)
        again = int(match.group(3)) if match and match.group(3) else 1
        return size, self.created or datetime.min.replace(tzinfo=UTC), again

    def as_dict(self, key: VerifierKey | None) -> dict[str, Any]:
        body = self.parsed.body if self.parsed else None
        return {
            "file": self.name,
            "created": self.created.isoformat() if self.created else None,
            "origin": body.origin if body else None,
            "size": body.size if body else None,
            "root": base64.b64encode(body.root).decode() if body else None,
            "signature_valid": bool(self.parsed and key and self.parsed.signed_by(key)),
            "error": self.error,
        }


@contextmanager
def _signing(settings: Settings) -> Iterator[None]:
    """One process at a time finds or signs checkpoints (an advisory lock on a file beside
    their folder), so that two bundles made at once agree on which checkpoint covers them."""
    with exclusive(settings.layout.checkpoints_lock):
        yield


def make_checkpoint(archive: Archive) -> StoredCheckpoint:
    """Catch the ledger up, sign its root and keep the checkpoint; return it.

    Refuses (:class:`CheckpointRefused`) when the ledger contradicts a checkpoint signed
    earlier with this key: a log must never sign two inconsistent checkpoints.
    """
    with _signing(archive.settings):
        return _make_checkpoint(archive)


def covering_checkpoint(archive: Archive, key: VerifierKey, size: int) -> StoredCheckpoint:
    """The earliest checkpoint signed by ``key`` over at least ``size`` events, signing one
    now if none is. Checkpoints only grow, so once one covers a set of events the answer
    never changes: the same volume always gets the same proof."""
    with _signing(archive.settings):
        # Only files whose name says they are big enough are read, smallest first.
        for named_size, path in _named_sizes(archive.settings):
            if named_size < size:
                continue
            stored = _read(path)
            parsed = stored.parsed
            if parsed and parsed.body.size >= size and parsed.signed_by(key):
                return stored
        return _make_checkpoint(archive)


def _named_sizes(settings: Settings) -> list[tuple[int, Path]]:
    """(tree size as the file name gives it, path) of every checkpoint file, in the order of
    :meth:`StoredCheckpoint.sort_key`; files not named as checkpoints are left out."""
    folder = settings.layout.checkpoints
    if not folder.is_dir():
        return []
    named = []
    for path in folder.iterdir():
        if match := _NAME.fullmatch(path.name):
            size, created, again = match.groups()
            named.append(((int(size), created, int(again or 1)), path))
    return [(key[0], path) for key, path in sorted(named)]


def _make_checkpoint(archive: Archive) -> StoredCheckpoint:
    ensure_key(archive.settings)
    signer = load_signer(archive.settings)
    with archive.ledger() as ledger:
        tree = MerkleTree(ledger.leaf_hashes())
    verifier = signer.verifier()
    for earlier in list_checkpoints(archive.settings):
        if earlier.parsed is None or not earlier.parsed.signed_by(verifier):
            continue
        size = earlier.parsed.body.size
        if size > tree.size or tree.root(size) != earlier.parsed.body.root:
            raise CheckpointRefused(
                "inconsistent_checkpoint",
                f"账本与已签的检查点 {earlier.name} 不一致，拒绝再签；请运行 archive verify",
                f"the ledger contradicts checkpoint {earlier.name}; run `archive verify`",
            )
    created = archive.now().astimezone(UTC)
    note = sign_checkpoint(CheckpointBody(signer.name, tree.size, tree.root()), signer)
    path = _write_new(archive.layout.checkpoints, tree.size, created, note)
    return StoredCheckpoint(path, created.replace(microsecond=0), parse_checkpoint(note))


def list_checkpoints(settings: Settings) -> list[StoredCheckpoint]:
    """Every checkpoint file, by tree size and time (unreadable files first, with the error)."""
    folder = settings.layout.checkpoints
    if not folder.is_dir():
        return []
    found = [_read(path) for path in folder.iterdir() if path.name.endswith(SUFFIX)]
    return sorted(found, key=StoredCheckpoint.sort_key)


def _read(path: Path) -> StoredCheckpoint:
    match = _NAME.fullmatch(path.name)
    created = (
        datetime.strptime(match.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if match else None
    )
    try:
        return StoredCheckpoint(path, created, parse_checkpoint(path.read_bytes()))
    except (OSError, BadNote) as error:
        return StoredCheckpoint(path, created, None, str(error))


def _write_new(folder: Path, size: int, created: datetime, note: str) -> Path:
    """Write ``note`` under a name no file has yet: the first free of ``…Z``, ``…Z-2``, …"""
    stem = f"{size:012d}-{created:%Y%m%dT%H%M%SZ}"
    with durable_draft(folder, stem, note) as draft:
        again = 1
        while True:
            path = folder / (f"{stem}{SUFFIX}" if again == 1 else f"{stem}-{again}{SUFFIX}")
            try:
                os.link(draft, path)  # fails if the name is taken: never overwrites
                return path
            except FileExistsError:
                again += 1


def checkpoint_after_seal(archive: Archive, volume: object) -> StoredCheckpoint:
    """The hook every month seal runs: a signed checkpoint covering the ``Sealed`` event.
    ``archive verify`` fails while a seal in the log has no such checkpoint."""
    return make_checkpoint(archive)
