"""Loading a demo all or nothing: a demo that fails leaves the archive as empty as it found it.

The plan is loaded into a staging home made beside the archive's own files (a temporary folder
in ``$ARCHIVE_HOME``, so that moving out of it is a rename on one file system):

- SQLite: the event store and the blobs are written there; only once every operation has
  loaded are they moved into place. A demo that fails, is interrupted or killed never touched
  the archive's own files (a killed one leaves its ``.demo-*`` folder behind, nothing else).
- PostgreSQL: the events go to the configured database directly (it has one event table);
  the blobs go to the staging home. The caller has checked that the database held no event;
  on failure its event table is emptied again (``TRUNCATE ... RESTART IDENTITY``, so the log
  starts again at 1) and the staging home removed. A demo killed outright leaves its events
  there; ``archive is-empty`` then says so.

Only the event store and blobs are written while loading; the read models are built in the
archive's home afterwards, from the log, as for any other write.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from archive.bootstrap import Archive, open_archive, opening
from archive.config import Settings

T = TypeVar("T")


def load_all_or_nothing(settings: Settings, build: Callable[[Archive], T]) -> T:
    """Run ``build`` on an archive that lands at ``settings`` only if ``build`` returns.

    ``build`` writes through ``archive.commands`` as usual. Raises what ``build`` raised, after
    removing everything it wrote.
    """
    home = settings.layout.home
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=home))
    staged_settings = replace(settings, home=staging)
    try:
        staged = open_archive(staged_settings)
        try:
            result = build(staged)
        except BaseException:
            if settings.backend == "postgres":
                _empty_event_table(staged)
            raise
        finally:
            staged.close()
        _move_into_place(staged_settings, settings)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _empty_event_table(archive: Archive) -> None:
    # The one place that removes stored events: those of a demo that failed, from a database
    # that held none before it began.
    recorder = archive.app.recorder
    table = f"{recorder.datastore.schema}.{recorder.events_table_name}"  # type: ignore[attr-defined]
    with recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")  # type: ignore[arg-type]


def _move_into_place(staged: Settings, target: Settings) -> None:
    """Rename the staged event store (SQLite) and blobs into the archive's home, under its
    opening lock so that no process opens the store halfway through."""
    source, layout = staged.layout, target.layout
    with opening(layout):
        if target.backend == "sqlite":
            _checkpoint(source.events_db)
            # The empty store's own journal files must not be read with the new database.
            for suffix in ("-wal", "-shm"):
                Path(f"{layout.events_db}{suffix}").unlink(missing_ok=True)
            os.replace(source.events_db, layout.events_db)
        for path in sorted(source.blobs.rglob("*")):
            relative = path.relative_to(source.blobs)
            if path.is_file() and relative.parts[0] != "tmp":
                destination = layout.blobs / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, destination)


def _checkpoint(database: Path) -> None:
    """Write the write-ahead log into the database file, so that the file alone is the store."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
