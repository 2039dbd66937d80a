"""Bundle jobs and finished bundles, kept in the database so that every server sees them.

A month's bundle takes minutes to make; the person who asked for it polls its progress and
downloads it, and with several servers behind one address those requests reach any of them.
So a job's state, stage, progress and error are rows of ``archive_bundle_jobs``, and a finished
bundle is a blob (:mod:`archive.blobs`: files or the database, as scans are) named in
``archive_bundles`` by volume and binding: a sealed volume always renders to the same bytes,
so it is made once and served again without rendering.

The server making a job says it is alive (``heartbeat``) every few seconds while the job runs
or waits its turn; a running job not heard of for ``LEASE_SECONDS`` belonged to a server that
stopped, and is shown failed instead of running forever. The tables live beside the sessions
(``Layout.sessions_db`` on SQLite, the archive's database on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archive.staff.sessions import _Postgres, _Sqlite

if TYPE_CHECKING:
    from archive.config import Settings

HEARTBEAT_SECONDS = 5.0
LEASE_SECONDS = 30.0
SERVER_GONE = "生成这个装订卷的服务器已停止，请重新生成"
# Volume numbers come from the address: one that no column can hold names no bundle.
_LARGEST_SUPPLEMENT = 2**31 - 1

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS archive_bundle_jobs ("
    " id TEXT PRIMARY KEY, month TEXT NOT NULL, supplement INTEGER NOT NULL,"
    " binding TEXT NOT NULL, state TEXT NOT NULL, stage TEXT NOT NULL,"
    " done INTEGER NOT NULL, total INTEGER NOT NULL, error TEXT, server TEXT NOT NULL,"
    " started DOUBLE PRECISION NOT NULL, heartbeat DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS archive_bundles ("
    " month TEXT NOT NULL, supplement INTEGER NOT NULL, binding TEXT NOT NULL,"
    " sha256 TEXT NOT NULL, made DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (month, supplement, binding))",
)
_PG_SCHEMA_LOCK = 0x5E55_1047  # beside the sessions' two (archive/staff/sessions.py)
_COLUMNS = "id, month, supplement, binding, state, stage, done, total, error"


@dataclass(frozen=True)
class JobRow:
    id: str
    month: str
    supplement: int
    binding: str
    state: str  # running | done | failed
    stage: str
    done: int
    total: int
    error: str | None


class BundleJobTable:
    """The bundle jobs of every server of one archive; ``clock`` gives seconds (epoch)."""

    def __init__(self, db: Any, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        with db.transaction() as run:
            if isinstance(db, _Postgres):  # servers starting at once race in the catalogue
                run("SELECT pg_advisory_xact_lock(?)", (_PG_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                run(statement)

    def add(self, job_id: str, month: str, supplement: int, binding: str, server: str) -> None:
        """A new job: done at once when its bundle was made before, else running."""
        state = "done" if self.made(month, supplement, binding) else "running"
        now = self._clock()
        with self._db.transaction() as run:
            run(
                f"INSERT INTO archive_bundle_jobs ({_COLUMNS}, server, started, heartbeat)"
                " VALUES (?, ?, ?, ?, ?, 'load', 0, 0, NULL, ?, ?, ?)",
                (job_id, month, supplement, binding, state, server, now, now),
            )

    def progress(self, job_id: str, stage: str, done: int, total: int) -> None:
        with self._db.transaction() as run:
            run(
                "UPDATE archive_bundle_jobs SET stage = ?, done = ?, total = ?, heartbeat = ?"
                " WHERE id = ? AND state = 'running'",
                (stage, done, total, self._clock(), job_id),
            )

    def beat(self, server: str) -> None:
        """``server`` is alive: so are its jobs, running or waiting their turn."""
        with self._db.transaction() as run:
            run(
                "UPDATE archive_bundle_jobs SET heartbeat = ?"
                " WHERE server = ? AND state = 'running'",
                (self._clock(), server),
            )

    def finish(self, job: JobRow, error: str | None, sha256: str | None) -> None:
        """The job ended: failed with ``error``, or done with its bundle ``sha256`` (kept for
        the next request of that bundle even when the job was already given up for lost)."""
        now = self._clock()
        with self._db.transaction() as run:
            if sha256 is not None:
                run(
                    "INSERT INTO archive_bundles (month, supplement, binding, sha256, made)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (month, supplement, binding) DO NOTHING",
                    (job.month, job.supplement, job.binding, sha256, now),
                )
            run(
                "UPDATE archive_bundle_jobs SET state = ?, error = ?, heartbeat = ?"
                " WHERE id = ? AND state = 'running'",
                ("failed" if sha256 is None else "done", error, now, job.id),
            )

    def get(self, job_id: str) -> JobRow | None:
        """The job, shown failed once its server has been silent for ``LEASE_SECONDS``."""
        select = f"SELECT {_COLUMNS}, heartbeat FROM archive_bundle_jobs WHERE id = ?"
        rows = self._db.read(select, (job_id,))  # polled often: a plain read first
        if not rows:
            return None
        *row, heartbeat = rows[0]
        job = JobRow(*row)
        if job.state != "running" or heartbeat >= self._clock() - LEASE_SECONDS:
            return job
        with self._db.transaction() as run:
            run(
                "UPDATE archive_bundle_jobs SET state = 'failed', error = ?"
                " WHERE id = ? AND state = 'running' AND heartbeat < ?",
                (SERVER_GONE, job_id, self._clock() - LEASE_SECONDS),
            )
            *row, _ = run(select, (job_id,))[0]
        return JobRow(*row)

    def made(self, month: str, supplement: int, binding: str) -> str | None:
        """The SHA-256 of the volume's bundle in ``binding``, if one was made."""
        if not 0 <= supplement <= _LARGEST_SUPPLEMENT:
            return None
        rows = self._db.read(
            "SELECT sha256 FROM archive_bundles WHERE month = ? AND supplement = ? AND binding = ?",
            (month, supplement, binding),
        )
        return str(rows[0][0]) if rows else None

    def close(self) -> None:
        self._db.close()


def open_job_table(settings: Settings, clock: Callable[[], float]) -> BundleJobTable:
    """The archive's job table: in its PostgreSQL database when there is one, else in the
    sessions' file in ``$ARCHIVE_HOME``. The caller closes it."""
    if settings.database_url:
        return BundleJobTable(_Postgres(settings.database_url), clock)
    return BundleJobTable(_Sqlite(settings.layout.sessions_db), clock)
