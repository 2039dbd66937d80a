"""Settings read from the environment, one place for every knob, and the layout of
``$ARCHIVE_HOME``: every file and folder the archive keeps there is named in :class:`Layout`
and nowhere else."""

from __future__ import annotations

import fcntl
import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

DEFAULT_MAX_SCAN_BYTES = 20 * 1024 * 1024
# Every page of a scan is printed in each bundle of its month: a scan of a whole box of paper
# belongs in several uploads.
DEFAULT_MAX_SCAN_PAGES = 50


@dataclass(frozen=True)
class Layout:
    """Where each part of one archive lives under its home folder.

    The ledger has a file of its own, apart from the event store and the other projections, so
    that it stays an independent witness of the store. Keys and checkpoints are plain files:
    they must survive anything done to either database.
    """

    home: Path

    @property
    def settings_file(self) -> Path:
        return self.home / "settings.toml"

    @property
    def events_db(self) -> Path:
        """The event store, when no PostgreSQL is configured."""
        return self.home / "archive.db"

    @property
    def blobs(self) -> Path:
        """Scans and drawn signatures, content-addressed."""
        return self.home / "blobs"

    @property
    def projections_db(self) -> Path:
        """Worklists, vehicle cards and month volumes."""
        return self.home / "projections.db"

    def search_index(self, engine: str) -> Path:
        """The search index of ``engine`` (a link to the folder in use)."""
        return self.home / "search" / engine

    @property
    def ledger_db(self) -> Path:
        """The integrity ledger: one Merkle leaf per stored event."""
        return self.home / "ledger.db"

    @property
    def keys(self) -> Path:
        """The checkpoint signing key (keep a copy offline)."""
        return self.home / "keys"

    @property
    def sessions_db(self) -> Path:
        """Web sessions and failed-login counts, when no PostgreSQL is configured."""
        return self.home / "sessions.db"

    @property
    def session_key(self) -> Path:
        """The web sessions' HMAC key."""
        return self.keys / "session.key"

    @property
    def checkpoints(self) -> Path:
        return self.home / "checkpoints"

    @property
    def opening_lock(self) -> Path:
        """Held while a process opens the stores and read models, which create their tables
        and index files the first time: processes started at once take turns."""
        return self.home / "opening.lock"

    @property
    def claims_lock(self) -> Path:
        """Held while a warranty claim is checked against the order's other claims and saved:
        two clerks filing a claim for one order at once take turns."""
        return self.home / "claims.lock"

    @property
    def checkpoints_lock(self) -> Path:
        """Held while a checkpoint is chosen or signed, so that bundles made at once agree."""
        return self.home / "checkpoints.lock"

    @property
    def print_cache(self) -> Path:
        """Rendered print chunks, reused while their inputs are unchanged."""
        return self.home / "cache" / "print"

    @property
    def bundles(self) -> Path:
        """Bundles made by the web's background jobs, waiting to be downloaded."""
        return self.home / "bundles"


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on one of the home's lock files (``Layout``) until the block
    ends: the processes of this machine take turns, and the lock goes with a process that
    dies holding it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None = None
    max_scan_bytes: int = DEFAULT_MAX_SCAN_BYTES
    max_scan_pages: int = DEFAULT_MAX_SCAN_PAGES
    timezone: str = "Asia/Shanghai"
    dealer_name: str = "示例汽车销售服务有限公司"
    search_engine: str = "whoosh"
    # Deadline days by rule setting (e.g. "warranty_claim_days"), overriding the registry's.
    deadline_days: dict[str, int] = field(default_factory=dict)
    # Churn period, maintenance intervals, holiday calendar: ``[reports]`` and
    # ARCHIVE_REPORTS_* as written; archive/contacts/settings.py reads and checks them.
    reports: dict[str, object] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Where scans are kept (archive/blobs/choice.py): "files" (``scans_dir``, else the home's
    # blobs/) or "database"; empty: the database with PostgreSQL, files otherwise.
    scans: str = ""
    scans_dir: Path | None = None
    # Whether a server follows the log in-process for the shared read models too (safe beside
    # `archive worker`: whoever holds a projection's lock applies, the others skip); false
    # (ARCHIVE_FOLLOW_LOG=0, `archive serve --no-follow`) leaves them to workers.
    follow_log: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("ARCHIVE_HOME") or "./var").resolve()
        return cls(
            home=home,
            deadline_days=deadline_days(Layout(home).settings_file, env),
            search_engine=search_engine(Layout(home).settings_file, env),
            reports=report_options(Layout(home).settings_file, env),
            database_url=env.get("ARCHIVE_DATABASE_URL") or None,
            max_scan_bytes=int(env.get("ARCHIVE_MAX_SCAN_BYTES") or DEFAULT_MAX_SCAN_BYTES),
            max_scan_pages=int(env.get("ARCHIVE_MAX_SCAN_PAGES") or DEFAULT_MAX_SCAN_PAGES),
            timezone=env.get("ARCHIVE_TIMEZONE") or "Asia/Shanghai",
            dealer_name=env.get("ARCHIVE_DEALER_NAME") or "示例汽车销售服务有限公司",
            scans=(env.get("ARCHIVE_SCANS") or "").strip().lower(),
            scans_dir=Path(env["ARCHIVE_SCANS_DIR"]) if env.get("ARCHIVE_SCANS_DIR") else None,
            follow_log=(env.get("ARCHIVE_FOLLOW_LOG") or "1").strip().lower()
            not in ("0", "no", "false", "off"),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def layout(self) -> Layout:
        return Layout(self.home)

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the eventsourcing library reads to build its recorders."""
        if self.database_url:
            env = postgres_env(self.database_url)
        else:
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.layout.events_db),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        env.update(self.extra_env)
        return env


def deadline_days(settings_file: Path, env: Mapping[str, str]) -> dict[str, int]:
    """Days per deadline rule: ``[deadlines]`` in ``$ARCHIVE_HOME/settings.toml``, then any
    ``ARCHIVE_DEADLINE_<SETTING>`` variable (``ARCHIVE_DEADLINE_WARRANTY_CLAIM_DAYS=10``)."""
    days: dict[str, int] = {}
    if settings_file.is_file():
        with settings_file.open("rb") as handle:
            table = tomllib.load(handle).get("deadlines", {})
        days.update(
            {str(k): _days(v, f"{settings_file} [deadlines] {k}") for k, v in table.items()}
        )
    for name, value in env.items():
        if name.startswith("ARCHIVE_DEADLINE_"):
            days[name.removeprefix("ARCHIVE_DEADLINE_").lower()] = _days(value, name)
    return days


def report_options(settings_file: Path, env: Mapping[str, str]) -> dict[str, object]:
    """``[reports]`` in ``settings.toml``, then any ``ARCHIVE_REPORTS_<NAME>`` variable
    (``ARCHIVE_REPORTS_CHURN_MONTHS=6``), unchecked."""
    options: dict[str, object] = {}
    if settings_file.is_file():
        with settings_file.open("rb") as handle:
            options.update(tomllib.load(handle).get("reports", {}))
    for name, value in env.items():
        if name.startswith("ARCHIVE_REPORTS_"):
            options[name.removeprefix("ARCHIVE_REPORTS_").lower()] = value
    return options


SEARCH_ENGINES = ("whoosh", "tantivy", "postgres")
# Engines whose index is a folder under $ARCHIVE_HOME (postgres keeps it in the database).
FILE_ENGINES = ("whoosh", "tantivy")


def search_engine(settings_file: Path, env: Mapping[str, str]) -> str:
    """``ARCHIVE_SEARCH_ENGINE``, else ``[search] engine`` in ``settings.toml``, else
    PostgreSQL when ``ARCHIVE_DATABASE_URL`` is set (every server reads one index), else
    Whoosh."""
    engine = env.get("ARCHIVE_SEARCH_ENGINE") or ""
    where = "ARCHIVE_SEARCH_ENGINE"
    if not engine and settings_file.is_file():
        with settings_file.open("rb") as handle:
            engine = str(tomllib.load(handle).get("search", {}).get("engine", ""))
        where = f"{settings_file} [search] engine"
    default = "postgres" if env.get("ARCHIVE_DATABASE_URL") else "whoosh"
    engine = engine.strip().lower() or default
    if engine not in SEARCH_ENGINES:
        raise ValueError(f"{where}: one of {', '.join(SEARCH_ENGINES)}, not {engine!r}")
    if engine == "postgres" and not env.get("ARCHIVE_DATABASE_URL"):
        raise ValueError(f"{where}: the postgres engine needs ARCHIVE_DATABASE_URL")
    return engine


def _days(value: object, where: str) -> int:
    try:
        days = int(str(value))
    except ValueError:
        raise ValueError(f"{where}: a number of days, not {value!r}") from None
    if not 0 <= days <= 365:
        raise ValueError(f"{where}: between 0 and 365 days, not {days}")
    return days


def postgres_env(url: str) -> dict[str, str]:
    """Translate ``postgresql://user:password@host:port/dbname`` for eventsourcing."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"ARCHIVE_DATABASE_URL must start with postgresql://, got {url!r}")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "10",
        # Creates the tables under an advisory lock: processes may start at the same moment.
        "APPLICATION_RECORDER_TOPIC": "events.pg_recorder:LockedPostgresApplicationRecorder",
    }
    return env
