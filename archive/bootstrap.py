"""The composition root: the only place that builds an archive from its settings.

:func:`open_archive` wires the event store, the blob store, the staff directory and the clock;
:class:`Archive` opens the read models (search index, worklists, vehicle cards, month volumes,
scans and the integrity ledger) where they live in :class:`archive.config.Layout`. Entry
points (the CLI, the web app, benchmarks) call it and then ``archive.commands`` to change
anything or ``archive.queries`` to read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from archive.blobs import BlobStore, open_blob_store
from archive.config import Layout, Settings, exclusive
from archive.kinds.catalog import RegistryCatalog, RegistryClosingCatalog
from archive.staff.directory import StaffDirectory
from events.application import ArchiveApplication
from projections.callbacks import CallbackReports
from projections.contacts import Contacts
from projections.daily_reports import DailyReports
from projections.database import Location, PostgresSchema
from projections.fees import ServiceFees
from projections.ledger import Ledger
from projections.months import MonthVolumes
from projections.runner import LogReader, ProjectionRunner, catch_up
from projections.scans import ScanIndex
from projections.vehicles import VehicleHistory
from projections.worklists import Worklists

if TYPE_CHECKING:
    from projections.search.backend import SearchBackend
    from projections.search.projection import SearchProjection


# The PostgreSQL schemas of the read models and of the integrity ledger.
READ_MODELS_SCHEMA = "read_models"
LEDGER_SCHEMA = "ledger"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Archive:
    """Everything a command or a query needs, built once per process."""

    settings: Settings
    app: ArchiveApplication
    blobs: BlobStore
    clock: Callable[[], datetime] = utc_now
    staff: StaffDirectory = field(init=False)

    def __post_init__(self) -> None:
        self.staff = StaffDirectory(self.app)

    @property
    def layout(self) -> Layout:
        return self.settings.layout

    def now(self) -> datetime:
        return self.clock()

    def log(self) -> LogReader:
        return LogReader(self.app)

    @property
    def read_models_location(self) -> Location:
        """Where the SQL read models keep their rows: ``projections.db`` under the home, or
        with PostgreSQL the database's ``read_models`` schema, shared by every server."""
        if self.settings.database_url:
            return PostgresSchema(self.settings.database_url, READ_MODELS_SCHEMA)
        return self.layout.projections_db

    @property
    def ledger_location(self) -> Location:
        """The integrity ledger's: its own file, or its own schema of the shared database.
        Apart from the read models so that a rebuild or a shape change never touches it;
        in the same database as the events, it is a witness against a damaged or altered
        row, not against whoever may alter both: signed checkpoints and their cosigners are
        the defence against that."""
        if self.settings.database_url:
            return PostgresSchema(self.settings.database_url, LEDGER_SCHEMA)
        return self.layout.ledger_db

    def open_ledger(self) -> Ledger:
        """The integrity ledger as it stands (not caught up: ``archive verify`` reads the
        witness as it is); the caller closes it."""
        with opening(self.layout):
            return Ledger(self.ledger_location, self.app)

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        """The integrity ledger, caught up with the log, closed after use."""
        ledger = self.open_ledger()
        try:
            catch_up(ledger, self.log())
            yield ledger
        finally:
            ledger.close()

    def open_month_volumes(self) -> MonthVolumes:
        with opening(self.layout):
            return MonthVolumes(self.read_models_location, RegistryClosingCatalog())

    @contextmanager
    def month_volumes(self) -> Iterator[MonthVolumes]:
        """The month-volumes projection alone, caught up, closed after use (sealing and the
        month overview need it without opening the other read models)."""
        months = self.open_month_volumes()
        try:
            catch_up(months, self.log())
            yield months
        finally:
            months.close()

    @contextmanager
    def read_models(self) -> Iterator[ReadModels]:
        models = ReadModels(self)
        try:
            yield models
        finally:
            models.close()

    def close(self) -> None:
        self.app.close()


class ReadModels:
    """The projections of one archive, with the runner that feeds them."""

    def __init__(self, archive: Archive) -> None:
        # Imported here: the engines and jieba take a while to load, and most commands never
        # search.
        from projections.search.projection import SearchProjection

        self.settings = archive.settings
        layout = archive.layout
        where = archive.read_models_location  # each SQL read model's rows
        catalog = RegistryCatalog(archive.settings.deadline_days)
        with opening(layout):
            self.search: SearchProjection = SearchProjection(
                search_backend(archive.settings),
                archive.app,
                catalog,
                archive.settings.tz,
                clock=archive.now,  # whether a claim's deadline has passed is asked of today
            )
            self.vehicles = VehicleHistory(where)
            self.worklists = Worklists(where, archive.app, catalog, archive.settings.tz)
            self.months = archive.open_month_volumes()
            self.scans = ScanIndex(where)
            self.contacts = Contacts(where)  # reminders, greetings, churn calls
            self.fees = ServiceFees(where, archive.settings.tz)
            self.daily_reports = DailyReports(where)  # the 日报 report's lines and totals
            self.callbacks = CallbackReports(where, archive.app, archive.settings.tz)
            self.ledger = archive.open_ledger()  # its own file (schema): the integrity witness
        self.search.shared = archive.settings.search_engine == "postgres"
        self.runner = ProjectionRunner(
            archive.app,
            [
                self.search,
                self.vehicles,
                self.worklists,
                self.months,
                self.scans,
                self.ledger,
                self.callbacks,
                self.fees,
                self.daily_reports,
                self.contacts,
            ],
        )

    def follow(self, interval: float = 0.5) -> None:
        """Follow the log in a background thread: every read model, or when the settings
        leave the shared ones to `archive worker` (``follow_log`` off), only this machine's
        (a search index in files)."""
        local = [p.name for p in self.runner if not p.shared]
        self.runner.start(interval, None if self.settings.follow_log else local)

    def close(self) -> None:
        self.runner.close()


def search_backend(settings: Settings) -> SearchBackend:
    """The search engine the settings choose, on its index under ``$ARCHIVE_HOME`` (or in
    the database, for postgres)."""
    engine = settings.search_engine
    if engine == "postgres":
        from projections.search.pg_backend import PgSearchBackend

        if not settings.database_url:
            raise ValueError("the postgres search engine needs ARCHIVE_DATABASE_URL")
        return PgSearchBackend(settings.database_url)
    if engine == "tantivy":
        from projections.search.tantivy_backend import TantivyBackend

        return TantivyBackend(settings.layout.search_index(engine))
    from projections.search.whoosh_backend import WhooshBackend

    return WhooshBackend(settings.layout.search_index(engine))


def open_archive(
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None
) -> Archive:
    settings = settings or Settings.from_env()
    layout = settings.layout
    layout.home.mkdir(parents=True, exist_ok=True)
    blobs = open_blob_store(settings)  # files, a shared folder or the database
    with opening(layout):
        app = ArchiveApplication(env=settings.eventsourcing_env())
    return Archive(settings=settings, app=app, blobs=blobs, clock=clock or utc_now)


_opening_depth = threading.local()


@contextmanager
def opening(layout: Layout) -> Iterator[None]:
    """Hold the home's opening lock while stores and read models are opened.

    Each creates its tables (SQLite switches a new file to WAL, Whoosh writes its first table
    of contents) the first time; two processes doing so at once fail ("database is locked",
    "File '_MAIN_0.toc' exists"). Under an exclusive ``flock`` they take turns, and the lock
    goes with the process if it dies. Re-entrant within a thread (the read models open the
    ledger, which takes it too).
    """
    depth = getattr(_opening_depth, "value", 0)
    if depth:
        _opening_depth.value = depth + 1
        try:
            yield
        finally:
            _opening_depth.value = depth
        return
    with exclusive(layout.opening_lock):
        _opening_depth.value = 1
        try:
            yield
        finally:
            _opening_depth.value = 0


def open_read_models(archive: Archive) -> ReadModels:
    """The read models, for a caller that keeps them open (the web app); it closes them."""
    return ReadModels(archive)
