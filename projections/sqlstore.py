"""Projections kept in SQL tables, each with its position in the same transaction: in a local
SQLite file, or in a schema of the shared PostgreSQL database (``projections.database``).

Subclasses write SQL that runs on both: ``?`` placeholders, ``ON CONFLICT ... DO NOTHING /
DO UPDATE``, rows read by column name, no SQLite-only functions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from projections.database import Location, PostgresSchema, open_database
from projections.runner import Batch, Projection

POSITIONS = (
    "CREATE TABLE IF NOT EXISTS projection_positions"
    " (name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
)
SHAPES = (
    "CREATE TABLE IF NOT EXISTS projection_shapes (name TEXT PRIMARY KEY, shape INTEGER NOT NULL)"
)


class SqlBatch(Batch):
    def __init__(self, projection: SqliteProjection, conn: Any, position: int):
        self.projection = projection
        self.conn = conn
        self.position = position

    def apply(self, notification_id: int, event: Any) -> None:
        self.projection.apply(self.conn, notification_id, event)


class SqliteProjection(Projection):
    """Base class: subclasses declare ``tables`` (name → CREATE statement) and ``apply``.

    Named for where it began; ``where`` may be a SQLite file's path or a PostgreSQL schema.
    """

    tables: dict[str, str] = {}  # noqa: RUF012 - overridden, never mutated
    indexes: tuple[str, ...] = ()
    # Raised when what the rows mean or which columns they have changes: a file written under
    # another shape has its tables dropped and made again on open, and the runner replays the
    # log into them.
    shape = 1

    def __init__(self, where: Location) -> None:
        self.where = where
        self.path = where if isinstance(where, Path) else None
        # In the shared database: followed by `archive worker` and by every server.
        self.shared = isinstance(where, PostgresSchema)
        self._lock = threading.RLock()
        self.db = open_database(where)
        self.conn = self.db.conn
        # One opening lock for every projection of the file or schema: they share the
        # positions and shapes tables.
        with self._lock, self.db.transaction("opening") as conn:
            if isinstance(where, PostgresSchema):
                # Under the lock: servers starting at once would race in the catalogue.
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {where.schema}")
            conn.execute(self.db.ddl(POSITIONS))
            for statement in self.tables.values():
                conn.execute(self.db.ddl(statement))
            self._settle_shape()
            # After the shape is settled: an index on a new column fails on an older table.
            for statement in self.indexes:
                conn.execute(statement)

    def _settle_shape(self) -> None:
        self.conn.execute(self.db.ddl(SHAPES))
        row = self.conn.execute(
            "SELECT shape FROM projection_shapes WHERE name = ?", (self.name,)
        ).fetchone()
        if row is not None and row["shape"] == self.shape:
            return
        if (row["shape"] if row else 1) != self.shape:  # a file from before shapes was shape 1
            # Dropped, not only emptied: CREATE TABLE IF NOT EXISTS keeps an old table's columns.
            for table in self.tables:
                self.conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in self.tables.values():
                self.conn.execute(self.db.ddl(statement))
            for statement in self.indexes:
                self.conn.execute(statement)
            self._clear()
        self.conn.execute(
            "INSERT INTO projection_shapes (name, shape) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET shape = excluded.shape",
            (self.name, self.shape),
        )

    def apply(self, conn: Any, notification_id: int, event: Any) -> None:
        raise NotImplementedError

    def position(self) -> int:
        with self._lock:
            return self._read_position()

    def _read_position(self) -> int:
        row = self.conn.execute(
            "SELECT position FROM projection_positions WHERE name = ?", (self.name,)
        ).fetchone()
        return row["position"] if row else 0

    @contextmanager
    def batch(self) -> Iterator[SqlBatch]:
        """The projection's lock, then its position: another process following the same log
        waits (SQLite) or is told :class:`ProjectionBusy` (PostgreSQL) instead of applying
        the same events; the position is read under the lock."""
        with self._lock, self.db.transaction(self.name, wait=False) as conn:
            batch = SqlBatch(self, conn, self._read_position())
            yield batch
            conn.execute(
                "INSERT INTO projection_positions (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (self.name, batch.position),
            )

    def reset(self) -> None:
        # Waits for a writer in another process to finish its batch, then empties the tables.
        with self._lock, self.db.transaction(self.name):
            self._clear()

    def _clear(self) -> None:
        for table in self.tables:
            self.conn.execute(f"DELETE FROM {table}")
        self.conn.execute("DELETE FROM projection_positions WHERE name = ?", (self.name,))

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows read by column name (``row["col"]``) or position, on either database."""
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def query_values(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples: for reading many rows fast."""
        with self._lock:
            return self.db.tuples(sql, params)

    def close(self) -> None:
        with self._lock:
            self.db.close()
