"""The composition root: one function wires settings, the event store and the blob store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from archive.blobs import BlobStore
from archive.config import Settings
from archive.staff_directory import StaffDirectory
from events.application import ArchiveApplication


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

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.app.close()


def open_archive(
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None
) -> Archive:
    settings = settings or Settings.from_env()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.blob_dir.mkdir(parents=True, exist_ok=True)
    app = ArchiveApplication(env=settings.eventsourcing_env())
    blobs = BlobStore(settings.blob_dir, settings.max_scan_bytes)
    return Archive(settings=settings, app=app, blobs=blobs, clock=clock or utc_now)
