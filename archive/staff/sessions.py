"""Web sessions and failed-login counts, kept in the database.

Kept server-side so that logging out, a password change and a deactivation end a session at
once, and so that every server process sees the same sessions and the same failure counts.
On SQLite they live in a file of their own (``Layout.sessions_db``: they are not events and
must not share the event store's file); on PostgreSQL, in two tables of the archive's database.

A session row is keyed by the SHA-256 of the session id: the table never holds a usable cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from archive.config import Settings

SESSION_SECONDS = 12 * 3600  # a working day; then log in again
FORGET_FAILURES_SECONDS = 24 * 3600  # a name not tried for a day starts afresh

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS archive_sessions ("
    " id_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,"
    " created DOUBLE PRECISION NOT NULL,"
    " expires DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS archive_sessions_username ON archive_sessions (username)",
    "CREATE TABLE IF NOT EXISTS archive_login_failures ("
    " account TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
    " last_failure DOUBLE PRECISION NOT NULL)",
)
# Any fixed numbers: every process creating the tables at once takes the first lock; the
# second is the store's ``exclusive`` lock.
_PG_SCHEMA_LOCK = 0x5E55_1045
_PG_EXCLUSIVE_LOCK = 0x5E55_1046

Run = Callable[..., list[tuple[Any, ...]]]


class _Database(Protocol):
    for_update: str

    def transaction(self) -> Any: ...  # a context manager yielding ``Run``

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def exclusive(self) -> Any: ...  # a context manager

    def close(self) -> None: ...


class _Sqlite:
    """One connection per store; ``BEGIN IMMEDIATE`` takes the file's write lock, so a
    transaction is atomic across threads and processes alike."""

    for_update = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        with self.transaction() as run:
            for statement in _SCHEMA:
                run(statement)

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield lambda sql, params=(): self._conn.execute(sql, params).fetchall()
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement outside any transaction: in WAL mode, a read takes no lock."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self.transaction():  # the file's write lock, held throughout
            yield

    def close(self) -> None:
        self._conn.close()


class _Postgres:
    """One connection per store, opened again if the server dropped it; rows that a
    transaction decides on are locked with ``FOR UPDATE``."""

    for_update = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: Any = None
        self._lock = threading.Lock()
        with self.transaction() as run:
            # Processes starting at the same moment would otherwise race in the catalog.
            run("SELECT pg_advisory_xact_lock(?)", (_PG_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                run(statement)

    def _connection(self) -> Any:
        import psycopg  # only a PostgreSQL archive needs it

        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        with self._lock:
            conn = self._connection()

            def run(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
                cursor = conn.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []

            with conn.transaction():
                yield run

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as run:  # a plain SELECT: no row is locked
            return run(sql, params)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        # A session-level advisory lock: held across transactions, on this connection only.
        with self.transaction() as run:
            run("SELECT pg_advisory_lock(?)", (_PG_EXCLUSIVE_LOCK,))
        try:
            yield
        finally:
            with self.transaction() as run:
                run("SELECT pg_advisory_unlock(?)", (_PG_EXCLUSIVE_LOCK,))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


@dataclass(frozen=True)
class SessionRow:
    username: str
    csrf: str
    created: float
    expires: float


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Sessions of logged-in people, and the failed logins per account."""

    def __init__(self, db: _Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    # -- sessions ----------------------------------------------------------------------------

    def start(self, username: str) -> tuple[str, SessionRow]:
        """A new session for ``username``: its id (for the cookie, never stored) and row."""
        now = self._clock()
        session_id = secrets.token_urlsafe(32)
        row = SessionRow(username, secrets.token_urlsafe(24), now, now + SESSION_SECONDS)
        with self._db.transaction() as run:
            run("DELETE FROM archive_sessions WHERE expires < ?", (now,))
            run(
                "INSERT INTO archive_sessions"
                " (id_hash, username, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
                (_digest(session_id), *astuple(row)),
            )
        return session_id, row

    def find(self, session_id: str) -> SessionRow | None:
        """The live session with this id, or ``None`` (unknown, ended or expired)."""
        now = self._clock()
        key = _digest(session_id)
        # Every request with a cookie asks this: a plain read, never the write lock that would
        # queue all requests of all processes behind each other and behind every login.
        rows = self._db.read(
            "SELECT username, csrf, created, expires FROM archive_sessions WHERE id_hash = ?",
            (key,),
        )
        if not rows:
            return None
        row = SessionRow(*rows[0])
        if row.expires <= now:
            self.end(session_id)
            return None
        return row

    def end(self, session_id: str) -> None:
        with self._db.transaction() as run:
            run("DELETE FROM archive_sessions WHERE id_hash = ?", (_digest(session_id),))

    def end_all(self, username: str) -> int:
        """End every session of ``username``; how many there were."""
        with self._db.transaction() as run:
            count = run("SELECT COUNT(*) FROM archive_sessions WHERE username = ?", (username,))
            run("DELETE FROM archive_sessions WHERE username = ?", (username,))
        return int(count[0][0])

    def sessions_of(self, username: str) -> int:
        with self._db.transaction() as run:
            rows = run(
                "SELECT COUNT(*) FROM archive_sessions WHERE username = ? AND expires > ?",
                (username, self._clock()),
            )
        return int(rows[0][0])

    # -- failed logins -----------------------------------------------------------------------

    def begin_attempt(self, account: str, wait: Callable[[int, float, float], float]) -> float:
        """Atomically decide on one login attempt for ``account``: the seconds it must still
        wait, ``wait(failures, last_failure, now)``; when that is 0 the attempt goes ahead and
        is counted as a failure at once (``forget_failures`` takes it back on success), so
        parallel attempts cannot all pass the same check."""
        now = self._clock()
        with self._db.transaction() as run:
            run(
                "DELETE FROM archive_login_failures WHERE last_failure < ?",
                (now - FORGET_FAILURES_SECONDS,),
            )
            run(
                "INSERT INTO archive_login_failures (account, failures, last_failure)"
                " VALUES (?, 0, ?) ON CONFLICT (account) DO NOTHING",
                (account, now),
            )
            failures, last = run(
                "SELECT failures, last_failure FROM archive_login_failures WHERE account = ?"
                + self._db.for_update,
                (account,),
            )[0]
            seconds = wait(int(failures), float(last), now)
            if seconds <= 0:
                run(
                    "UPDATE archive_login_failures SET failures = failures + 1, last_failure = ?"
                    " WHERE account = ?",
                    (now, account),
                )
        return max(seconds, 0.0)

    def forget_failures(self, account: str) -> None:
        with self._db.transaction() as run:
            run("DELETE FROM archive_login_failures WHERE account = ?", (account,))

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One holder at a time across every process of this archive (e.g. the change that
        checks "another admin remains" and saves). Use no other method of this store inside."""
        with self._db.exclusive():
            yield

    def close(self) -> None:
        self._db.close()


def open_session_store(settings: Settings, clock: Callable[[], float] = time.time) -> SessionStore:
    """The store of this archive: in its PostgreSQL database when there is one, else in
    ``$ARCHIVE_HOME``. The caller closes it."""
    if settings.database_url:
        return SessionStore(_Postgres(settings.database_url), clock)
    return SessionStore(_Sqlite(settings.layout.sessions_db), clock)


@contextmanager
def session_store(settings: Settings) -> Iterator[SessionStore]:
    store = open_session_store(settings)
    try:
        yield store
    finally:
        store.close()
