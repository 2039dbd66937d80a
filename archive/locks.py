"""Locks that make the archive's processes take turns: on one machine, or on every server.

Each lock has a name and, for an archive on SQLite, a file in ``$ARCHIVE_HOME``
(``Layout.<name>_lock``) held with ``flock``: every process of the machine shares that home.
With PostgreSQL configured, servers on several machines share the database and no home, so the
same name becomes a session advisory lock in the database (``archive:<name>``). Either lock
ends with the process that holds it, also one killed while holding it.

- ``opening``: stores and read models creating their tables the first time;
- ``claims``: one warranty claim per work order (checked and saved under it);
- ``checkpoints``: a checkpoint chosen or signed (one signer at a time).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from archive.config import Settings, exclusive

LOCK_NAMES = ("opening", "claims", "checkpoints")


@contextmanager
def one_at_a_time(settings: Settings, name: str, recorder: Any = None) -> Iterator[None]:
    """Hold the lock ``name`` until the block ends.

    On PostgreSQL the lock is taken on one of ``recorder``'s pooled connections when given (the
    event store's), else on a connection of its own (before the store is open).
    """
    if name not in LOCK_NAMES:
        raise ValueError(f"no lock named {name!r}")
    if not settings.database_url:
        with exclusive(getattr(settings.layout, f"{name}_lock")):
            yield
        return
    if recorder is not None:
        from events.pg_recorder import advisory_lock  # psycopg only when PostgreSQL is set

        with advisory_lock(recorder, f"archive:{name}"):
            yield
        return
    import psycopg

    # Closing the connection ends its session, and with it the lock.
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"archive:{name}",))
        yield
