"""The blob store every reader and writer of scans goes through.

Blobs live as files named by their SHA-256 under a folder (``root``): the home's ``blobs/``, or
a folder every server mounts (``ARCHIVE_SCANS_DIR``). With a :class:`BlobTable` the database
is where they are kept, and ``root`` is this machine's cache of them: a blob another server
stored is copied into it, checked against its hash, the first time this one needs it
(WeasyPrint, pikepdf and OCR read files, and a scan is served from one).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from archive.blobs.intake import CHUNK, StoredBlob, received, sniff_media_type
from archive.blobs.table import BlobTable

# An upload still streaming writes its temporary file at least every minute (the web gives up
# on one silent for longer); one untouched for an hour belongs to a process that is gone.
STALE_UPLOAD_SECONDS = 3600
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class BlobDamaged(Exception):
    """The database's bytes of a blob do not hash to its name: altered where they are kept."""


class BlobStore:
    def __init__(self, root: Path, max_bytes: int, table: BlobTable | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.table = table

    def path_for(self, sha256: str) -> Path:
        """Where the blob's file is (or would be) under ``root``."""
        if not _SHA256_RE.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        if _SHA256_RE.fullmatch(sha256) is None:
            return False
        if self.path_for(sha256).is_file():
            return True
        return self.table is not None and self.table.has(sha256)

    def local_path(self, sha256: str) -> Path:
        """A file on this machine holding the blob (fetched from the database first when it
        is kept there and not yet cached); the path of no file when the blob is unknown."""
        path = self.path_for(sha256)
        if self.table is not None and not path.is_file():
            self._fetch(sha256, path)
        return path

    def open(self, sha256: str) -> BinaryIO:
        return self.local_path(sha256).open("rb")

    def read(self, sha256: str) -> bytes:
        return self.local_path(sha256).read_bytes()

    @property
    def tmp_dir(self) -> Path:
        """Uploads while they stream in; nothing stays here once a request has ended."""
        return self.root / "tmp"

    def put_stream(
        self,
        stream: BinaryIO,
        max_bytes: int | None = None,
        check: Callable[[Path, str], None] | None = None,
    ) -> StoredBlob:
        """Store ``stream``; refuse an unknown type or a size over the limit.

        ``check`` looks at the complete file (its temporary path and media type) before it is
        stored, and refuses it by raising :class:`BlobRejected`: decoding an image or counting
        a PDF's pages needs the whole file, and a refused file must leave nothing behind.
        """
        limit = self.max_bytes if max_bytes is None else max_bytes
        with received(stream, self.tmp_dir, limit) as upload:
            if check is not None:
                check(upload.path, upload.media_type)
            final = self.path_for(upload.sha256)
            if self.table is not None:
                is_new = self.table.keep(upload.path, upload.sha256, upload.size, upload.media_type)
            else:
                is_new = not final.is_file()
            _place(upload.path, final)
            return StoredBlob(upload.sha256, upload.size, upload.media_type, is_new)

    def put_bytes(
        self,
        data: bytes,
        max_bytes: int | None = None,
        check: Callable[[Path, str], None] | None = None,
    ) -> StoredBlob:
        return self.put_stream(io.BytesIO(data), max_bytes, check)

    def _fetch(self, sha256: str, path: Path) -> None:
        assert self.table is not None
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="fetch-")
        try:
            with os.fdopen(fd, "wb") as out:
                found = self.table.copy_out(sha256, out)
            if found is None:
                return
            if found != sha256:
                raise BlobDamaged(f"blob {sha256} in the database hashes to {found}")
            _place(Path(tmp_name), path)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def share_local(self) -> tuple[int, list[Path]]:
        """Put every blob of ``root`` the database lacks into it: the scans a home kept as
        files before its archive's blobs moved to the database (``open_blob_store`` runs this
        once per home). A file whose bytes do not hash to its name is left out. Returns how
        many were added, and the files left out."""
        assert self.table is not None
        added, damaged = 0, []
        for path in sorted(self.root.glob("??/??/*")):
            if not _SHA256_RE.fullmatch(path.name) or self.table.has(path.name):
                continue
            digest = hashlib.sha256()
            with path.open("rb") as source:
                head = source.read(16)
                digest.update(head)
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
            media_type = sniff_media_type(head)
            if digest.hexdigest() != path.name or media_type is None:
                damaged.append(path)
                continue
            size = path.stat().st_size
            added += self.table.keep(path, path.name, size, media_type)
        return added, damaged

    def sweep_tmp(self, older_than: float = STALE_UPLOAD_SECONDS) -> int:
        """Remove uploads left in the temporary folder by a process that died while one
        streamed in (a request's own cleanup cannot run after ``kill -9`` or a power cut);
        those younger than ``older_than`` seconds may still be streaming. Returns how many
        were removed."""
        if not self.tmp_dir.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for entry in self.tmp_dir.iterdir():
            try:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:  # another process swept it first
                continue
        return removed


def _place(tmp: Path, final: Path) -> None:
    """Move a complete file into its content-addressed place: a rename, atomic on one file
    system (``tmp_dir`` is under ``root``), so two servers storing the same bytes into a shared
    folder at once each put a whole, identical file there."""
    if final.is_file():
        return  # the same bytes are there: the caller's temporary file is removed
    final.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o444)
    os.replace(tmp, final)
