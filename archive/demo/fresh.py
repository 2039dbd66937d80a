"""Loading a demo all or nothing: a demo that fails leaves the archive as empty as it found it.

The plan is loaded into a staging home, a temporary folder in ``/dev/shm`` when it has room
(else in ``$ARCHIVE_HOME``); what it wrote is copied beside its place in the home and renamed
into place only once everything has loaded:

- SQLite: the event store and the blobs are written there. A demo that fails, is interrupted
  or killed never touched the archive's own files (a killed one leaves its ``.demo-*`` folder
  behind, nothing else).
- PostgreSQL: the events go to the configured database directly (it has one event table),
  and so do the read models it keeps, the search schema and the scans when they are kept in
  the database. The caller has checked that the database held no event; on failure the
  database is put back as it was found (``_DatabaseBefore``): its event table emptied again
  (``TRUNCATE ... RESTART IDENTITY``, so the log starts again at 1), every schema and table
  the demo made dropped, every table that was empty emptied again, the scans it added
  deleted; and the staging home removed. A demo killed outright leaves its events there;
  ``archive is-empty`` then says so.

While loading, the write path also keeps the worklists read model up to date (its link checks
read it); it is placed with the store, so the read models catch up from where it stands.
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
from archive.demo.database_before import DatabaseBefore as _DatabaseBefore

T = TypeVar("T")


def load_all_or_nothing(settings: Settings, build: Callable[[Archive], T]) -> T:
    """Run ``build`` on an archive that lands at ``settings`` only if ``build`` returns.

    ``build`` writes through ``archive.commands`` as usual. Raises what ``build`` raised, after
    removing everything it wrote.
    """
    home = settings.layout.home
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=_staging_parent(home)))
    # Each command loads the document it changes from its events; the demo changes one paper
    # several times in a row, so the application keeps the aggregates it loaded (fast-forwarded
    # from the store on each use). Not copied: a command that changed one and was then refused
    # would leave its trace there, but any refusal ends the demo and its staging home with it.
    # 13% less CPU for a month of 300 work orders; a copy on each use costs what it saves.
    cache = {
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }
    staged_settings = replace(settings, home=staging, extra_env={**settings.extra_env, **cache})
    found = _DatabaseBefore.read(settings.database_url) if settings.database_url else None
    try:
        staged = open_archive(staged_settings)
        try:
            result = build(staged)
        except BaseException:
            if found is not None:
                found.restore(keep=_empty_event_table(staged))
            raise
        finally:
            staged.close()
        _move_into_place(staged_settings, settings)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _staging_parent(home: Path) -> Path:
    """Memory (``/dev/shm``) when it has room: the demo's hundred thousand small commits
    then wait for no disk (a third of a loaded machine's time went to fsync), and a staged
    store is thrown away on failure anyway. Else the home itself."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 << 30:
            return shm
    except OSError:
        pass
    return home


def _empty_event_table(archive: Archive) -> tuple[str, str]:
    """Empty the event table; return its (schema, name)."""
    # The one place that removes stored events: those of a demo that failed, from a database
    # that held none before it began.
    recorder = archive.app.recorder
    schema, name = recorder.datastore.schema, recorder.events_table_name  # type: ignore[attr-defined]
    table = f"{schema}.{name}"
    with recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")  # type: ignore[arg-type]
    return schema, name


def _move_into_place(staged: Settings, target: Settings) -> None:
    """Put the staged event store (SQLite), the worklists it kept while loading and the blobs
    into the archive's home, under its opening lock so that no process opens them halfway.

    Each file is copied beside its place and renamed over it: a rename is atomic, and the
    staging folder may be on another file system."""
    source, layout = staged.layout, target.layout
    with opening(layout):
        if target.backend == "sqlite":
            _place_database(source.events_db, layout.events_db)
        if source.projections_db.exists():
            _place_database(source.projections_db, layout.projections_db)
        for path in sorted(source.blobs.rglob("*")):
            relative = path.relative_to(source.blobs)
            if path.is_file() and relative.parts[0] != "tmp":
                _place(path, layout.blobs / relative)


def _place_database(source: Path, target: Path) -> None:
    _checkpoint(source)
    # The empty database's own journal files must not be read with the new one.
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    _place(source, target)


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    beside = target.with_name(f".{target.name}.demo")
    shutil.copyfile(source, beside)
    os.replace(beside, target)


def _checkpoint(database: Path) -> None:
    """Write the write-ahead log into the database file, so that the file alone is the store."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
