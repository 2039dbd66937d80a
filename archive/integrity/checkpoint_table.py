"""Checkpoints kept in PostgreSQL, for servers that share the database and no home folder.

One row per checkpoint, written once: its name (the one a file would have), tree size, root
(base64, as the note says it), the signed note itself and when it was signed. Rows are added
by :func:`archive.integrity.checkpoints.make_checkpoint` under the ``checkpoints`` lock and
never changed; ``seq`` keeps the order they were signed in. Checkpoint files a home kept before
its archive moved to PostgreSQL are adopted into the table (:func:`adopt`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from archive.integrity.notes import CheckpointBody

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS archive_checkpoints ("
    " seq BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, size BIGINT NOT NULL,"
    " root TEXT NOT NULL, note TEXT NOT NULL, signed_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)
_created: set[str] = set()  # databases whose table this process has made sure of

Row = tuple[str, bytes]  # name, note


@contextmanager
def _connection(url: str) -> Iterator[Any]:
    import psycopg  # only a PostgreSQL archive needs it

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        if url not in _created:
            with conn.transaction():
                # Processes creating the table at once would race in the catalogue.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('archive:checkpoints-table'))")
                conn.execute(_SCHEMA)
            _created.add(url)
        yield conn


def every(url: str) -> list[Row]:
    """Every checkpoint kept, by tree size and the order they were signed in."""
    with _connection(url) as conn:
        found = conn.execute(
            "SELECT name, note FROM archive_checkpoints ORDER BY size, seq"
        ).fetchall()
    return [(name, note.encode()) for name, note in found]


def adopt(url: str, kept: list[tuple[str, CheckpointBody, str]]) -> None:
    """Add checkpoints kept as files (name, body, note) that the table lacks, in order."""
    with _connection(url) as conn, conn.transaction():
        for name, body, note in kept:
            conn.execute(
                "INSERT INTO archive_checkpoints (name, size, root, note) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (name) DO NOTHING",
                (name, body.size, base64.b64encode(body.root).decode(), note),
            )


def add(url: str, stem: str, suffix: str, body: CheckpointBody, note: str) -> str:
    """Keep ``note`` under the first free name of ``<stem><suffix>``, ``<stem>-2<suffix>``, …
    (as files are named); return the name."""
    root = base64.b64encode(body.root).decode()
    with _connection(url) as conn:
        again = 1
        while True:
            name = f"{stem}{suffix}" if again == 1 else f"{stem}-{again}{suffix}"
            added = conn.execute(
                "INSERT INTO archive_checkpoints (name, size, root, note) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (name) DO NOTHING RETURNING name",
                (name, body.size, root, note),
            ).fetchall()
            if added:
                return name
            again += 1
