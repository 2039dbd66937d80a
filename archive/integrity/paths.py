"""Where the integrity machinery keeps its files under ``$ARCHIVE_HOME``.

The ledger has its own SQLite file, apart from the event store (``archive.db`` or PostgreSQL)
and from the other projections, so that it stays an independent witness of the store. Keys and
checkpoints are plain files: they must survive anything done to either database.
"""

from __future__ import annotations

from pathlib import Path

from archive.bootstrap import Archive
from archive.config import Settings
from projections.ledger import Ledger


def ledger_path(settings: Settings) -> Path:
    return settings.home / "ledger.db"


def keys_dir(settings: Settings) -> Path:
    return settings.home / "keys"


def checkpoints_dir(settings: Settings) -> Path:
    return settings.home / "checkpoints"


def open_ledger(archive: Archive) -> Ledger:
    """The ledger projection of this archive (``archive.read_models`` registers this one)."""
    return Ledger(ledger_path(archive.settings), archive.app)
