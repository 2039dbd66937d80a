"""Where an SQL projection keeps its rows: a local SQLite file, or a schema of the shared
PostgreSQL database.

Projections write one SQL for both (``?`` placeholders, ``ON CONFLICT``, rows read by column
name or position). This module is the seam: :func:`open_database` gives a projection a
:class:`SqlDatabase`, whose ``conn`` runs that SQL on either (on PostgreSQL through
:class:`PgConnection`, which turns ``?`` into ``%s`` and hands back :class:`Row`), and whose
transactions say how writers take turns. On SQLite ``BEGIN IMMEDIATE`` makes a second writer
wait for the file's lock; on PostgreSQL a writer takes the projection's advisory lock inside
its transaction or, when another server or worker holds it, gives up at once
(:class:`ProjectionBusy`) instead of applying the same events twice. The lock goes with the
transaction, so a writer killed mid-batch leaves nothing behind: its rows and position are
rolled back together.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from projections.runner import ProjectionBusy


@dataclass(frozen=True)
class PostgresSchema:
    """A schema of the PostgreSQL database at ``url`` (made on first use)."""

    url: str
    schema: str

    def __str__(self) -> str:  # never the URL: it may carry a password
        return f"postgresql schema {self.schema}"


Location = Path | PostgresSchema


class SqlDatabase(ABC):
    """One connection to where a projection's tables are, and how its transactions begin."""

    conn: Any  # ``execute(sql, params)`` / ``executemany``: sqlite3.Connection or PgConnection

    @abstractmethod
    def begin(self, lock: str, wait: bool = True) -> None:
        """Begin a transaction holding the write lock named ``lock`` (a projection's name);
        raise :class:`ProjectionBusy` instead of waiting when ``wait`` is false and another
        process holds it."""

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self, lock: str, wait: bool = True) -> Iterator[Any]:
        self.begin(lock, wait)
        try:
            yield self.conn
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def ddl(self, statement: str) -> str:
        """A CREATE statement as this database spells it."""
        return statement

    @abstractmethod
    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples (for reading many: no row objects made)."""

    def close(self) -> None:
        self.conn.close()


class SqliteDatabase(SqlDatabase):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def begin(self, lock: str, wait: bool = True) -> None:
        # IMMEDIATE takes the file's write lock before anything is read: another process
        # following the same log waits here (up to the timeout) instead of applying the same
        # events. One lock for every projection of the file.
        self.conn.execute("BEGIN IMMEDIATE")

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, tuple(params)).fetchall()


class PostgresDatabase(SqlDatabase):
    def __init__(self, where: PostgresSchema) -> None:
        self.where = where
        self.conn = PgConnection(where)

    def begin(self, lock: str, wait: bool = True) -> None:
        key = f"projection:{self.where.schema}.{lock}"
        self.conn.execute("BEGIN")
        if wait:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (key,))
        else:
            (held,) = self.conn.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(?))", (key,)
            ).fetchone()
            if not held:
                self.conn.execute("ROLLBACK")
                raise ProjectionBusy(lock)
        self.conn.start_pipeline()

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.end_pipeline()  # waits for every result: an error is raised here

    def rollback(self) -> None:
        self.conn.end_pipeline(failed=True)
        if not self.conn.broken:  # a dropped connection has rolled back already
            self.conn.execute("ROLLBACK")

    def ddl(self, statement: str) -> str:
        return _pg_ddl(statement)

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params, plain=True).fetchall()


def open_database(where: Location) -> SqlDatabase:
    if isinstance(where, PostgresSchema):
        return PostgresDatabase(where)
    return SqliteDatabase(Path(where))


class Row(tuple):
    """A PostgreSQL row read like ``sqlite3.Row``: by position, by column name, ``dict(row)``."""

    names: dict[str, int]

    def __new__(cls, values: Iterable[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return super().__getitem__(self.names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Any:
    names: dict[str, int] = {}
    for index, column in enumerate(cursor.description or ()):
        names.setdefault(column.name, index)  # the first of a repeated name, as SQLite does
    return lambda values: Row(values, names)


class PgConnection:
    """One psycopg connection in autocommit (transactions are begun by SQL, as on SQLite),
    its ``search_path`` the projection's schema; opened again if the server dropped it."""

    def __init__(self, where: PostgresSchema) -> None:
        self.where = where
        self._raw: Any = None
        self._pipeline: Any = None

    @property
    def broken(self) -> bool:
        return self._raw is None or self._raw.closed or self._raw.broken

    def start_pipeline(self) -> None:
        """Send statements without waiting for each result (a transaction's INSERTs and
        UPDATEs): one round trip per read instead of one per statement. A fetch waits for
        its own result; an error surfaces there or at :meth:`end_pipeline`."""
        self._pipeline = self._connection().pipeline()
        self._pipeline.__enter__()

    def end_pipeline(self, failed: bool = False) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        if not failed:
            pipeline.__exit__(None, None, None)
            return
        # The batch failed already: its error is the one to raise, not the pipeline's.
        with contextlib.suppress(Exception):
            pipeline.__exit__(Exception, Exception(), None)

    def _connection(self) -> Any:
        import psycopg  # only a PostgreSQL archive needs it

        if self.broken:
            self._raw = psycopg.connect(
                self.where.url,
                autocommit=True,
                connect_timeout=10,
                options=f"-c search_path={self.where.schema}",
            )
        return self._raw

    def execute(self, sql: str, params: Sequence[Any] = (), plain: bool = False) -> Any:
        from psycopg.rows import tuple_row

        cursor = self._connection().cursor(row_factory=tuple_row if plain else _row_factory)
        # Prepared by psycopg after a few runs of one statement (projections repeat a handful).
        return cursor.execute(_pg_sql(sql), tuple(params) or None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cursor = self._connection().cursor()
        cursor.executemany(_pg_sql(sql), [tuple(r) for r in rows])
        return cursor

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()


_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?|%")


@functools.lru_cache(maxsize=1024)
def _pg_sql(sql: str) -> str:
    """``?`` → ``%s`` outside string literals, ``%`` → ``%%`` everywhere (psycopg reads
    placeholders in literals too)."""

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        return "%s" if text == "?" else text.replace("%", "%%")

    return _LITERAL_OR_MARK.sub(swap, sql)


_PG_TYPES = ((re.compile(r"\bINTEGER\b"), "BIGINT"), (re.compile(r"\bBLOB\b"), "BYTEA"))
_PG_TYPES += ((re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),)


def _pg_ddl(statement: str) -> str:
    """SQLite's column types as PostgreSQL's: INTEGER is 64-bit on SQLite (ids, positions,
    amounts in fen), BLOB is BYTEA, REAL a double."""
    if not statement.lstrip().upper().startswith("CREATE TABLE"):
        return statement
    for pattern, name in _PG_TYPES:
        statement = pattern.sub(name, statement)
    return statement
