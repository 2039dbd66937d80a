"""Files written once and never overwritten: keys and checkpoints.

Each is written whole to a temporary file, flushed to disk, then hard-linked to its name.
``os.link`` fails when the name exists, so a file appears complete or not at all and nothing
already there is ever replaced.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def durable_draft(folder: Path, stem: str, text: str, mode: int = 0o644) -> Iterator[Path]:
    """``text`` in a temporary file of ``folder``, on disk, with ``mode``; the caller links it
    to its final name (``os.link``) inside the block; the draft is removed after."""
    folder.mkdir(parents=True, exist_ok=True)
    draft = folder / f".{stem}.{os.getpid()}.tmp"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(draft, mode)  # whatever the umask made of it
        yield draft
    finally:
        draft.unlink(missing_ok=True)
