"""Signed checkpoints of the ledger: files under ``$ARCHIVE_HOME/checkpoints/`` on SQLite, rows
of the database's ``archive_checkpoints`` table on PostgreSQL (:mod:`checkpoint_table`).

:func:`make_checkpoint` brings the ledger up to the log's head and signs the root of everything
it has witnessed. Every checkpoint is kept, named by tree size and UTC time
(``000000001234-20261103T010000Z.checkpoint``), written once and never overwritten, so that the
chain of checkpoints shows the archive only ever grew. ``archive checkpoint`` makes one on
demand; sealing a month makes one too.

One signer: a checkpoint is chosen or signed under the ``checkpoints`` lock
(:mod:`archive.locks`), a file lock on one machine and an advisory lock in the database when
several servers share it; under it the signer reads every checkpoint already kept and refuses
to sign a tree they contradict, so no two checkpoints of one size ever name different roots.
Servers on PostgreSQL keep their checkpoints in the shared table, because each server's home
is its own: a file in one would not be seen by the others.
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
from archive.config import Settings
from archive.errors import ArchiveError
from archive.integrity import checkpoint_table
from archive.integrity.files import durable_draft
from archive.integrity.keys import VerifierKey, ensure_key, load_signer
from archive.integrity.notes import (
    BadNote,
    Checkpoint,
    CheckpointBody,
    parse_checkpoint,
    sign_checkpoint,
)
from archive.locks import one_at_a_time
from projections.merkle import MerkleTree

SUFFIX = ".checkpoint"
_NAME = re.compile(r"(\d+)-(\d{8}T\d{6}Z)(?:-(\d+))?" + re.escape(SUFFIX))


class CheckpointRefused(ArchiveError):
    """Signing would contradict a checkpoint already signed."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """One checkpoint kept: its name, its note as kept, and the note read (or why it cannot
    be read). ``path`` is its file, for one kept as a file."""

    name: str
    created: datetime | None
    parsed: Checkpoint | None
    error: str | None = None
    note: bytes = b""
    path: Path | None = None

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
    """One process at a time finds or signs checkpoints, so that two bundles made at once
    agree on which checkpoint covers them and two servers never sign different trees."""
    with one_at_a_time(settings, "checkpoints"):
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
        for stored in _at_least(archive.settings, size):
            parsed = stored.parsed
            if parsed and parsed.body.size >= size and parsed.signed_by(key):
                return stored
        return _make_checkpoint(archive)


def _at_least(settings: Settings, size: int) -> Iterator[StoredCheckpoint]:
    """The checkpoints whose name says they hold ``size`` events or more, smallest first:
    only those are read."""
    if settings.database_url:
        for stored in list_checkpoints(settings):
            if stored.parsed and stored.parsed.body.size >= size:
                yield stored
        return
    for named_size, path in _named_sizes(settings):
        if named_size >= size:
            yield _read(path)


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
    shared = archive.settings.database_url
    for earlier in list_checkpoints(archive.settings):
        if shared and earlier.parsed is not None and not earlier.parsed.signed_by(verifier):
            # Servers sharing a database sign with one key (copies of it): a server that made
            # a key of its own would start a second, unrelated chain of checkpoints.
            raise CheckpointRefused(
                "foreign_checkpoint_key",
                f"数据库里的检查点 {earlier.name} 不是用本机的私钥签的：请把签发它的服务器的 "
                f"keys/ 目录复制到本机 {archive.layout.keys}，不要另造新钥",
                f"checkpoint {earlier.name} in the database was signed by another key; copy "
                f"keys/ from the server that signed it to {archive.layout.keys}",
            )
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
    body = CheckpointBody(signer.name, tree.size, tree.root())
    note = sign_checkpoint(body, signer)
    stem = f"{tree.size:012d}-{created:%Y%m%dT%H%M%SZ}"
    if archive.settings.database_url:
        name = checkpoint_table.add(archive.settings.database_url, stem, SUFFIX, body, note)
        path = None
    else:
        path = _write_new(archive.layout.checkpoints, stem, note)
        name = path.name
    parsed = parse_checkpoint(note)
    return StoredCheckpoint(name, created.replace(microsecond=0), parsed, None, note.encode(), path)


def list_checkpoints(settings: Settings) -> list[StoredCheckpoint]:
    """Every checkpoint kept, by tree size and time (unreadable ones first, with the error)."""
    folder = settings.layout.checkpoints
    found = (
        [_read(p) for p in folder.iterdir() if p.name.endswith(SUFFIX)] if folder.is_dir() else []
    )
    found.sort(key=StoredCheckpoint.sort_key)
    if not settings.database_url:
        return found
    return _kept_in_table(settings.database_url, found)


def _kept_in_table(url: str, files: list[StoredCheckpoint]) -> list[StoredCheckpoint]:
    """The table's checkpoints. Files this home kept before its archive moved to PostgreSQL
    are added to the table first (by name, once), so that every server sees them; a file
    that cannot be read stays listed, with its error, as on SQLite."""
    readable = [(c.name, c.parsed.body, c.note.decode()) for c in files if c.parsed is not None]
    if readable:
        checkpoint_table.adopt(url, readable)
    stored = [_parse(name, note) for name, note in checkpoint_table.every(url)]
    names = {c.name for c in stored}
    return [c for c in files if c.parsed is None and c.name not in names] + stored


def _created(name: str) -> datetime | None:
    """The UTC time a checkpoint's name gives (to the second)."""
    match = _NAME.fullmatch(name)
    if not match:
        return None
    return datetime.strptime(match.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _read(path: Path) -> StoredCheckpoint:
    try:
        note = path.read_bytes()
    except OSError as error:
        return StoredCheckpoint(path.name, _created(path.name), None, str(error), path=path)
    return _parse(path.name, note, path)


def _parse(name: str, note: bytes, path: Path | None = None) -> StoredCheckpoint:
    created = _created(name)
    try:
        return StoredCheckpoint(name, created, parse_checkpoint(note), None, note, path)
    except BadNote as error:
        return StoredCheckpoint(name, created, None, str(error), note, path)


def _write_new(folder: Path, stem: str, note: str) -> Path:
    """Write ``note`` under a name no file has yet: the first free of ``…Z``, ``…Z-2``, …"""
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
