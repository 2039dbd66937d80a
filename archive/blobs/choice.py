"""Which blob store the settings choose (``ARCHIVE_SCANS``, ``ARCHIVE_SCANS_DIR``).

- ``files`` in the home's ``blobs/``: one machine (the default on SQLite);
- ``files`` in ``ARCHIVE_SCANS_DIR``: a folder every server mounts (NFS and the like);
- ``database``: PostgreSQL, each server caching what it reads in its home's ``blobs/`` (the
  default with ``ARCHIVE_DATABASE_URL``: servers on one database share no folder unless one is
  mounted, and the database is then the one thing they all reach and back up together).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from archive.blobs.store import BlobStore
from archive.blobs.table import BlobTable

if TYPE_CHECKING:
    from pathlib import Path

    from archive.config import Settings

SCAN_STORES = ("files", "database")
SHARED_MARKER = ".blobs-in-database"  # in the home, once its blob files are in the database
log = logging.getLogger(__name__)


def scan_store(settings: Settings) -> str:
    """``files`` or ``database``, as the settings say; ``ValueError`` for a contradiction."""
    chosen = settings.scans
    if not chosen:
        chosen = "database" if settings.database_url and settings.scans_dir is None else "files"
    if chosen not in SCAN_STORES:
        raise ValueError(f"ARCHIVE_SCANS: one of {', '.join(SCAN_STORES)}, not {chosen!r}")
    if chosen == "database" and not settings.database_url:
        raise ValueError("ARCHIVE_SCANS=database needs ARCHIVE_DATABASE_URL")
    if chosen == "database" and settings.scans_dir is not None:
        raise ValueError(
            "ARCHIVE_SCANS_DIR keeps scans in a folder: not with ARCHIVE_SCANS=database"
        )
    return chosen


def open_blob_store(settings: Settings) -> BlobStore:
    """The archive's blob store, its temporary uploads of crashed processes swept away."""
    if scan_store(settings) == "database":
        assert settings.database_url is not None
        store = BlobStore(
            settings.layout.blobs, settings.max_scan_bytes, BlobTable(settings.database_url)
        )
    else:
        root = (settings.scans_dir or settings.layout.blobs).resolve()
        store = BlobStore(root, settings.max_scan_bytes)
    store.root.mkdir(parents=True, exist_ok=True)
    store.sweep_tmp()  # uploads a crashed process left half written
    if store.table is not None:
        _share_once(store, settings.layout.home / SHARED_MARKER)
    return store


def _share_once(store: BlobStore, marker: Path) -> None:
    """The first time a home opens with its blobs in the database, the files it kept before
    go there too (every later file is in the database before it is in the home)."""
    if marker.exists():
        return
    added, damaged = store.share_local()
    if added:
        log.info("%d blobs of %s copied into the database", added, store.root)
    for path in damaged:
        log.warning("blob file %s does not hash to its name: not copied into the database", path)
    marker.write_text("every blob file here is also in the database\n", encoding="utf-8")
