"""What every blob store does with an upload before keeping it.

Uploads are streamed to a temporary file while hashed and measured, so a large upload never
sits in memory and an over-size one is cut off at the limit; the type is decided by the file's
first bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from events.errors import BadInput

CHUNK = 64 * 1024


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


@dataclass(frozen=True)
class Upload:
    """An upload received whole into a temporary file: hashed, measured and typed."""

    path: Path
    sha256: str
    size: int
    media_type: str


@contextmanager
def received(stream: BinaryIO, tmp_dir: Path, limit: int) -> Iterator[Upload]:
    """Stream ``stream`` into a temporary file of ``tmp_dir`` while hashing and measuring it;
    refuse (:class:`BlobRejected`) an unknown type, an empty file or one over ``limit`` bytes,
    cut off at the limit. The file is removed when the block ends unless the block moved it.

    Every blob store takes uploads through here: one size limit, one type check.
    """
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
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
        yield Upload(Path(tmp_name), digest.hexdigest(), size, media_type)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


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
