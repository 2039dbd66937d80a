"""Following the application's notification log, for every projection alike.

A projection keeps its own data and the log position it reached, and writes both in one commit
(``Projection.batch``), so a crash at any moment neither skips nor repeats an event. SQLite
recorders cannot push new events, so the runner polls; the same loop serves PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification

from events.application import ArchiveApplication

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500
# A read waiting for the read models applies batches this small, so its deadline, checked
# between batches, is overrun by one small batch at most (a batch of 500 search entries can
# take seconds).
WAIT_BATCH = 50


class Batch(ABC):
    """One atomic step of a projection: events applied and the position, committed together."""

    position: int

    @abstractmethod
    def apply(self, notification_id: int, event: Any) -> None: ...


class Projection(ABC):
    """A read model built from the log. Subclasses say how to store and how to apply."""

    name: str
    # False: the projection is handed the stored notifications as they are, undecoded
    # (the integrity ledger hashes the stored bytes; decoding them would be wasted work).
    decodes: bool = True
    # False: only rebuilt when named (a witness rebuilt from a tampered log would agree with it).
    rebuilt_with_all: bool = True

    @abstractmethod
    def position(self) -> int:
        """The id of the last notification this projection has applied (0: none)."""

    @abstractmethod
    def batch(self) -> AbstractContextManager[Batch]:
        """Exclusive write access; ``position`` is read inside it, so two processes never
        apply the same events. Leaving the block normally commits data and position; an
        exception throws the whole batch away."""

    @abstractmethod
    def reset(self) -> None:
        """Throw everything away (position 0), for a rebuild."""

    # True: its rows are in the shared database, where `archive worker` keeps them current
    # for every server; False: in this machine's files (a search index under $ARCHIVE_HOME).
    shared: bool = False

    def rebuild(self, reader: LogReader, batch_size: int = DEFAULT_BATCH) -> int:
        """Throw everything away and replay the whole log; return how many events were
        applied. Subclasses may build the whole read model at once instead of batch by batch
        (the search index: one fresh index, committed once)."""
        self.reset()
        return catch_up(self, reader, batch_size)

    def finish_batch(self, batch: Batch, events: Sequence[tuple[int, Any]]) -> None:  # noqa: B027
        """Hook after a batch's events were applied, before its commit (for batch-wide work)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files and connections."""


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "position": self.position, "head": self.head, "lag": self.lag}


class LogReader:
    """The one reader of the application's notification log: notifications after a position
    (only some topics, if asked, picked out by the database), and their domain events."""

    def __init__(self, app: ArchiveApplication) -> None:
        self.app = app

    def head(self) -> int:
        return self.app.head()

    def read(
        self,
        after: int,
        limit: int,
        topics: Sequence[str] = (),
        stop: int | None = None,
    ) -> list[Notification]:
        return list(
            self.app.recorder.select_notifications(
                start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False
            )
        )

    def decode(self, notification: Notification) -> Any:
        return self.app.mapper.to_domain_event(notification)


def catch_up(
    projection: Projection,
    reader: LogReader,
    batch_size: int = DEFAULT_BATCH,
    on_event: Callable[[int], None] | None = None,
    wait: bool = True,
    stop: threading.Event | None = None,
    deadline: float | None = None,
) -> int:
    """Apply every event the projection has not seen; return how many this process applied.

    When another process holds the projection's writer (``ProjectionBusy``), ``wait`` says
    whether to wait for it and go on (the projection is caught up on return either way, by
    whichever process) or to return at once, with the count of batches already committed
    (followers polling the log leave the rest to the holder, or to their next round).
    ``stop``, when set, ends the catch-up between batches, and so does passing ``deadline``
    (a ``time.monotonic()`` value: a read answers within its bound). ``on_event`` is called
    before each event is applied (tests use it to crash mid-batch).
    """
    applied = 0
    while stop is None or not stop.is_set():
        if deadline is not None and time.monotonic() >= deadline:
            return applied
        if projection.position() >= reader.head():
            # Nothing new: no writer is opened, nothing is committed (a search index would
            # otherwise commit, and reopen its searcher, on every poll).
            return applied
        try:
            done = _one_batch(projection, reader, batch_size, on_event)
        except ProjectionBusy:
            if not wait:
                return applied
            time.sleep(0.05)  # its holder is applying these very events: see what it left
            continue
        if not done:
            return applied
        applied += done
    return applied


def _one_batch(
    projection: Projection,
    reader: LogReader,
    batch_size: int,
    on_event: Callable[[int], None] | None,
) -> int:
    """Apply the next batch under the projection's writer; return how many events (0: none
    left after the position read under the lock)."""
    with projection.batch() as batch:
        notifications = reader.read(batch.position, batch_size)
        if not notifications:
            return 0
        events = []
        for notification in notifications:
            if on_event is not None:
                on_event(notification.id)
            event = reader.decode(notification) if projection.decodes else notification
            batch.apply(notification.id, event)
            events.append((notification.id, event))
        projection.finish_batch(batch, events)
        batch.position = notifications[-1].id
    return len(notifications)


class ProjectionRunner:
    """Keeps a set of projections up to date: on demand, or in a background thread."""

    def __init__(
        self,
        app: ArchiveApplication,
        projections: Sequence[Projection],
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.reader = LogReader(app)
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[Projection]:
        return iter(self.projections.values())

    def catch_up(self, name: str | None = None) -> int:
        """Bring projections to the log's head (waiting for another process that holds one's
        writer); return how many events this process applied."""
        with self._lock:
            chosen = [self.projections[name]] if name else list(self.projections.values())
            return sum(catch_up(p, self.reader, self.batch_size) for p in chosen)

    def follow_once(
        self, names: Sequence[str] | None = None, stop: threading.Event | None = None
    ) -> dict[str, int]:
        """One round of following: each projection (of ``names``, default all) that no other
        process is writing is brought to the head. Returns events applied by name; a failing
        projection is logged and left for the next round, the others go on."""
        applied: dict[str, int] = {}
        with self._lock:
            for name in list(self.projections) if names is None else names:
                if stop is not None and stop.is_set():
                    break
                projection = self.projections[name]
                try:
                    # Busy: another process is writing it; it stops there, next round again.
                    applied[name] = catch_up(
                        projection, self.reader, self.batch_size, wait=False, stop=stop
                    )
                except Exception:
                    log.exception("projection %s update failed; retrying", name)
        return applied

    def rebuild(self, name: str | None = None) -> int:
        """Throw projections away and replay the whole log into them."""
        with self._lock:
            if name:
                chosen = [self.projections[name]]
            else:
                chosen = [p for p in self.projections.values() if p.rebuilt_with_all]
            return sum(p.rebuild(self.reader, self.batch_size) for p in chosen)

    def status(self) -> list[ProjectionStatus]:
        head = self.reader.head()
        return [ProjectionStatus(p.name, p.position(), head) for p in self.projections.values()]

    def wait_for(self, position: int | None = None, timeout: float = 5.0) -> bool:
        """Bring every projection to ``position`` (default: the log's head), within ``timeout``.

        Catches up itself when it can, in small batches and only until ``timeout``, however
        far behind (a server whose worker is down must still answer its reads in time, marked
        incomplete); when another process holds a projection's writer it waits for that
        process instead. Returns whether the position was reached.
        """
        target = self.reader.head() if position is None else position
        deadline = time.monotonic() + timeout
        while True:
            behind = [p for p in self.projections.values() if p.position() < target]
            if not behind:
                return True
            if self._lock.acquire(timeout=0.05):
                try:
                    for projection in behind:
                        # Busy: a worker or another server is on it; wait for it.
                        catch_up(
                            projection,
                            self.reader,
                            min(self.batch_size, WAIT_BATCH),
                            wait=False,
                            deadline=deadline,
                        )
                finally:
                    self._lock.release()
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    # -- background following -------------------------------------------------------------

    def start(self, interval: float = 0.5, names: Sequence[str] | None = None) -> None:
        """Follow the log in a daemon thread until :meth:`stop` (only ``names``, if given:
        a server leaving the shared read models to workers follows its local ones)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._follow, args=(interval, names), name="projections", daemon=True
        )
        self._thread.start()

    def _follow(self, interval: float, names: Sequence[str] | None) -> None:
        while not self._stop.is_set():
            if names is None or names:
                self.follow_once(names, self._stop)
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def close(self) -> None:
        self.stop()
        for projection in self.projections.values():
            projection.close()


class ProjectionBusy(Exception):
    """Another process holds this projection's writer right now."""
