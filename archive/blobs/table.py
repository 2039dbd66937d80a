"""Blobs kept in PostgreSQL, for servers that share the database and no folder.

A blob is one row of ``archive_blobs`` (its SHA-256, size and type) and its bytes in rows of
``archive_blob_chunks`` of at most ``TABLE_CHUNK`` bytes each, all written in one transaction:
a reader sees all of a blob or none of it. Written and read one chunk at a time, so a 20 MB
scan never sits in memory whole. Two servers storing the same bytes at once: the second waits
on the first's row, then finds it there and writes nothing.

Plain ``bytea`` rows, not large objects: they are dumped, restored and replicated with the
rest of the database, and deleting a row leaves no orphaned object behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

TABLE_CHUNK = 1024 * 1024
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS archive_blobs ("
    " sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, media_type TEXT NOT NULL,"
    " stored_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS archive_blob_chunks ("
    " sha256 TEXT NOT NULL REFERENCES archive_blobs (sha256), seq INTEGER NOT NULL,"
    " data BYTEA NOT NULL, PRIMARY KEY (sha256, seq))",
)


class BlobTable:
    """The blob tables of one PostgreSQL database; a connection per use (uploads and cache
    misses are rare next to the connection's cost, and nothing is left open)."""

    def __init__(self, url: str) -> None:
        self.url = url
        with self._connection() as conn, conn.transaction():
            # Servers starting at once would otherwise race in the catalogue.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('archive:blob-tables'))")
            for statement in _SCHEMA:
                conn.execute(statement)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        import psycopg  # only a PostgreSQL archive needs it

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            yield conn

    def has(self, sha256: str) -> bool:
        with self._connection() as conn:
            return self._has(conn, sha256)

    def keep(self, path: Path, sha256: str, size: int, media_type: str) -> bool:
        """Store the file at ``path`` (whose hash is ``sha256``) unless it is there; True
        when this call stored it."""
        with self._connection() as conn, conn.transaction():
            added = conn.execute(
                "INSERT INTO archive_blobs (sha256, size, media_type) VALUES (%s, %s, %s)"
                " ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
                (sha256, size, media_type),
            ).fetchall()
            if not added:
                return False
            with path.open("rb") as source:
                seq = 0
                while chunk := source.read(TABLE_CHUNK):
                    conn.execute(
                        "INSERT INTO archive_blob_chunks (sha256, seq, data) VALUES (%s, %s, %s)",
                        (sha256, seq, chunk),
                    )
                    seq += 1
        return True

    def copy_out(self, sha256: str, out: BinaryIO) -> str | None:
        """Write the blob's bytes to ``out``; the SHA-256 of what was written, or ``None`` when
        the database has no such blob."""
        digest = hashlib.sha256()
        with self._connection() as conn, conn.transaction():
            if not self._has(conn, sha256):
                return None
            # A server-side cursor fetching one row at a time: one chunk in memory.
            with conn.cursor(name="blob_chunks") as rows:
                rows.itersize = 1
                rows.execute(
                    "SELECT data FROM archive_blob_chunks WHERE sha256 = %s ORDER BY seq",
                    (sha256,),
                )
                for (data,) in rows:
                    digest.update(data)
                    out.write(data)
        return digest.hexdigest()

    @staticmethod
    def _has(conn: Any, sha256: str) -> bool:
        found = conn.execute("SELECT 1 FROM archive_blobs WHERE sha256 = %s", (sha256,))
        return found.fetchone() is not None
