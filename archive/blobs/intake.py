"""Content-addressed storage of scans (and signature images) under ``$ARCHIVE_HOME/blobs``.

A blob's path is made from its SHA-256 alone, never from anything a user typed. Uploads are
streamed to a temporary file while hashed and measured, so a large upload never sits in memory
and an over-size one is cut off at the limit; the type is decided by the file's first bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from events.errors import BadInput

CHUNK = 64 * 1024
# An upload still streaming writes its temporary file at least every minute (the web gives up
# on one silent for longer); one untouched for an hour belongs to a process that is gone.
STALE_UPLOAD_SECONDS = 3600
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class BlobRejected(BadInput):
    """An upload that is not stored: wrong type, empty, or too large."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    media_type: str
    is_new: bool


def sniff_media_type(head: bytes) -> str | None:
    """PDF, JPEG or PNG by magic bytes; anything else is ``None``."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


class BlobStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        if not _SHA256_RE.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return _SHA256_RE.fullmatch(sha256) is not None and self.path_for(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

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
        tmp_dir = self.tmp_dir
        tmp_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        media_type: str | None = None
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                head = _read_at_least(stream, 16)
                media_type = sniff_media_type(head)
                if media_type is None:
                    if not head:
                        raise BlobRejected("empty", "文件是空的", "the file is empty")
                    raise BlobRejected(
                        "unsupported_type",
                        "只能上传 PDF、JPEG 或 PNG 文件（按文件内容判断，而不是扩展名）",
                        "only PDF, JPEG and PNG files are accepted (judged by content)",
                    )
                chunk = head
                while chunk:
                    size += len(chunk)
                    if size > limit:
                        raise BlobRejected(
                            "too_large",
                            f"文件超过 {limit // (1024 * 1024)} MB 的上限",
                            f"the file exceeds the {limit} byte limit",
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    chunk = stream.read(CHUNK)
                out.flush()
                os.fsync(out.fileno())
            if check is not None:
                check(Path(tmp_name), media_type)
            sha256 = digest.hexdigest()
            final = self.path_for(sha256)
            if final.is_file():
                os.unlink(tmp_name)
                return StoredBlob(sha256, size, media_type, is_new=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp_name, 0o444)
            os.replace(tmp_name, final)
            return StoredBlob(sha256, size, media_type, is_new=True)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put_bytes(
        self,
        data: bytes,
        max_bytes: int | None = None,
        check: Callable[[Path, str], None] | None = None,
    ) -> StoredBlob:
        return self.put_stream(io.BytesIO(data), max_bytes, check)

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


def _read_at_least(stream: BinaryIO, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(max(n - len(data), CHUNK))
        if not chunk:
            break
        data += chunk
    return data


def display_filename(raw: str | None) -> str:
    """A file name for display only (never a path): last component, no control characters."""
    if not raw:
        return ""
    name = re.split(r"[\\/]", raw)[-1]
    name = "".join(c for c in name if c.isprintable())
    return name[:120]
