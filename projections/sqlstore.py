"""Projections kept in one local SQLite file, each with its position in the same transaction."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from projections.runner import Batch, Projection


class SqlBatch(Batch):
    def __init__(self, projection: SqliteProjection, conn: sqlite3.Connection, position: int):
        self.projection = projection
        self.conn = conn
        self.position = position

    def apply(self, notification_id: int, event: Any) -> None:
        self.projection.apply(self.conn, notification_id, event)


class SqliteProjection(Projection):
    """Base class: subclasses declare ``tables`` (name → CREATE statement) and ``apply``."""

    tables: dict[str, str] = {}  # noqa: RUF012 - overridden, never mutated
    indexes: tuple[str, ...] = ()
    # Raised when what the rows mean or which columns they have changes: a file written under
    # another shape has its tables dropped and made again on open, and the runner replays the
    # log into them.
    shape = 1

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS projection_positions "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )
            for statement in self.tables.values():
                self.conn.execute(statement)
            self._settle_shape()
            # After the shape is settled: an index on a new column fails on an older table.
            for statement in self.indexes:
                self.conn.execute(statement)

    def _settle_shape(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS projection_shapes "
            "(name TEXT PRIMARY KEY, shape INTEGER NOT NULL)"
        )
        row = self.conn.execute(
            "SELECT shape FROM projection_shapes WHERE name = ?", (self.name,)
        ).fetchone()
        if row is not None and row[0] == self.shape:
            return
        if (row[0] if row else 1) != self.shape:  # a file from before shapes was shape 1
            # Dropped, not only emptied: CREATE TABLE IF NOT EXISTS keeps an old table's columns.
            for table in self.tables:
                self.conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in (*self.tables.values(), *self.indexes):
                self.conn.execute(statement)
            self.reset()
        self.conn.execute(
            "INSERT INTO projection_shapes (name, shape) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET shape = excluded.shape",
            (self.name, self.shape),
        )

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        raise NotImplementedError

    def position(self) -> int:
        with self._lock:
            return self._read_position()

    def _read_position(self) -> int:
        row = self.conn.execute(
            "SELECT position FROM projection_positions WHERE name = ?", (self.name,)
        ).fetchone()
        return row[0] if row else 0

    @contextmanager
    def batch(self) -> Iterator[SqlBatch]:
        with self._lock:
            # IMMEDIATE takes the write lock before the position is read: another process
            # following the same log waits here instead of applying the same events.
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                batch = SqlBatch(self, self.conn, self._read_position())
                yield batch
                self.conn.execute(
                    "INSERT INTO projection_positions (name, position) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                    (self.name, batch.position),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def reset(self) -> None:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for table in self.tables:
                    self.conn.execute(f"DELETE FROM {table}")
                self.conn.execute("DELETE FROM projection_positions WHERE name = ?", (self.name,))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self.conn.close()
