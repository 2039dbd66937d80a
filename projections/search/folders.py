"""An index folder replaced at once: the engines build a fresh index beside the live one and
point the live name (a symbolic link) at it in one rename, so a search never sees a
half-built index."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def fresh_folder(live: Path) -> Path:
    """A new, empty folder beside ``live`` for the next index."""
    fresh = live.parent / f"{live.name}-{uuid.uuid4().hex[:12]}"
    fresh.mkdir(parents=True)
    return fresh


def swap_in(live: Path, fresh: Path) -> Path:
    """Point ``live`` at ``fresh``; return the folder it pointed to (to be removed)."""
    old = Path(os.path.realpath(live))
    link = live.parent / f".{live.name}.link"
    link.unlink(missing_ok=True)
    link.symlink_to(fresh.name)
    if not live.is_symlink() and live.exists():
        # A plain folder from before rebuilds swapped links: move it aside first.
        old = live.parent / f"{live.name}-{uuid.uuid4().hex[:12]}"
        os.replace(live, old)
    os.replace(link, live)
    return old
