"""Projections follow the log: incremental equals rebuilt, and a crash loses or repeats nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from archive import commands
from archive.bootstrap import Archive, ReadModels, open_archive, open_read_models
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.queries.documents import show
from projections.runner import Batch, Projection, ProjectionRunner, catch_up

SMALL = DemoSpec(month="2026-10", work_orders=40)


@pytest.fixture
def demo_archive(archive: Archive) -> Archive:
    """A small demo month, on each store."""
    load(archive, generate(SMALL))
    return archive


@pytest.fixture
def models(demo_archive: Archive) -> Iterator[ReadModels]:
    opened = open_read_models(demo_archive)
    try:
        yield opened
    finally:
        opened.close()


def snapshot(models: ReadModels) -> tuple[list[dict], dict[str, list[tuple]]]:
    """Everything the projections hold but their positions: search entries and every table of
    the SQL projections, in a fixed order."""
    entries = list(models.search.backend.entries())
    tables = {}
    for projection, table in [
        (models.vehicles, "vehicle_records"),
        (models.vehicles, "vehicle_summaries"),
        (models.vehicles, "customer_summaries"),
        (models.worklists, "wl_docs"),
        (models.worklists, "wl_links"),
        (models.worklists, "wl_owed"),
        (models.worklists, "wl_refusals"),
        (models.months, "month_documents"),
        (models.months, "month_volumes"),
    ]:
        rows = projection.query(f"SELECT * FROM {table}")
        tables[table] = sorted(tuple(r) for r in rows)
    return entries, tables


def test_incremental_equals_rebuilt(demo_archive: Archive, models: ReadModels) -> None:
    # Follow the log in small steps while more events arrive ...
    models.runner.batch_size = 7
    models.runner.catch_up()
    second = models.search.search("kind:work_order").hits[1].number
    # A claim: nothing names it, so it may be voided (an order its papers name may not).
    claim = models.search.search("kind:warranty_claim", page_size=1).hits[0].number
    commands.void_document(demo_archive, "warranty_claim", claim, "重复开单", "admin")
    version = show(demo_archive, "work_order", second)["version"]
    commands.amend_document(
        demo_archive, "work_order", second, {"work_done": "补充：已试车"}, "补充", version, "admin"
    )
    models.runner.catch_up()
    incremental = snapshot(models)
    status = models.runner.status()
    assert all(s.lag == 0 and s.position == demo_archive.app.head() for s in status)
    # ... then throw everything away and replay in big batches.
    models.runner.batch_size = 500
    witnessed = models.ledger.leaf_hashes()
    rebuilt = models.runner.rebuild()
    assert snapshot(models) == incremental
    # The integrity ledger is a witness: it is rebuilt only when asked for by name.
    assert models.ledger.leaf_hashes() == witnessed
    replayed = [p for p in models.runner if p.name != "ledger"]
    assert rebuilt == len(replayed) * demo_archive.app.head()
    assert len(incremental[0]) > 100


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def test_a_crash_mid_batch_neither_skips_nor_repeats(
    demo_archive: Archive, models: ReadModels
) -> None:
    head = demo_archive.app.head()
    crash_at = head // 2 + 3

    def die(notification_id: int) -> None:
        if notification_id == crash_at:
            raise Crash

    for projection in models.runner:
        # From the start: the write path keeps the worklists caught up (one claim per order
        # is checked there), so filing the demo already brought them to the head.
        projection.reset()
        with pytest.raises(Crash):
            catch_up(projection, models.runner.reader, batch_size=10, on_event=die)
        # Whole batches before the crash are kept; the batch that crashed is not.
        assert 0 < projection.position() < crash_at
        assert (crash_at - projection.position()) <= 10
    models.runner.catch_up()
    after_crash = snapshot(models)
    models.runner.rebuild()
    assert snapshot(models) == after_crash


def test_a_killed_worker_resumes_without_gap_or_duplicate(
    demo_archive: Archive, models: ReadModels
) -> None:
    settings = demo_archive.settings
    env = {**os.environ, "ARCHIVE_HOME": str(settings.home)}
    if settings.database_url:
        env["ARCHIVE_DATABASE_URL"] = settings.database_url
    worker = subprocess.Popen(
        [sys.executable, "-m", "archive.cli", "worker", "--interval", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Killed as soon as any read model has committed a batch: mid catch-up. (Not the search
        # index's first batch: on PostgreSQL an empty index is built whole and committed once.)
        deadline = time.monotonic() + 60
        while all(p.position() == 0 for p in models.runner) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed_at = [p.position() for p in models.runner]
    assert any(p > 0 for p in killed_at)
    assert not all(p == models.runner.reader.head() for p in killed_at)  # killed part way
    models.runner.catch_up()
    resumed = snapshot(models)
    models.runner.rebuild()
    assert snapshot(models) == resumed


def test_wait_for_brings_a_page_its_own_write(demo_archive: Archive, models: ReadModels) -> None:
    models.runner.catch_up()
    number = _first_number(models)
    commands.void_document(demo_archive, "warranty_claim", number, "重复开单", "admin")
    assert models.runner.wait_for(timeout=10)
    voided = models.search.search(f"status:voided flag:voided {number}")
    assert [h.number for h in voided.hits] == [number]


class SlowProjection(Projection):
    """A read model whose every event takes 20 ms to apply (a search index under load)."""

    name = "slow"

    def __init__(self) -> None:
        self.at = 0

    def position(self) -> int:
        return self.at

    def batch(self) -> AbstractContextManager[Batch]:
        return self._batch()

    @contextmanager
    def _batch(self) -> Iterator[Batch]:
        batch = _SlowBatch(self.at)
        yield batch
        self.at = batch.position

    def reset(self) -> None:
        self.at = 0


class _SlowBatch(Batch):
    def __init__(self, position: int) -> None:
        self.position = position

    def apply(self, notification_id: int, event: object) -> None:
        time.sleep(0.02)


def test_wait_for_answers_within_its_bound_however_far_behind(tmp_path: Path) -> None:
    """A read on a server whose worker is down catches up only until its deadline (a
    --no-follow server's first search took 73 s 2,017 events behind)."""
    archive = open_archive(Settings(home=tmp_path / "home"))
    try:
        load(archive, generate(DemoSpec(month="2026-10", work_orders=5)))
        head = archive.app.head()  # ~200 events: 4 s to apply them all
        slow = SlowProjection()
        runner = ProjectionRunner(archive.app, [slow])
        started = time.monotonic()
        assert not runner.wait_for(timeout=0.2)
        # One small batch past the deadline at most, not the whole log.
        assert time.monotonic() - started < 2.0
        assert 0 < slow.position() < head
        assert runner.wait_for(timeout=30) and slow.position() == head
    finally:
        archive.close()


def _first_number(models: ReadModels) -> str:
    # A claim: nothing names it, so it may be voided (an order its papers name may not).
    return models.search.search("kind:warranty_claim", page_size=1).hits[0].number


def test_status_shows_position_head_and_lag(tmp_path: Path) -> None:
    archive = open_archive(Settings(home=tmp_path / "home"))
    try:
        load(archive, generate(DemoSpec(month="2026-10", work_orders=5)))
        models = open_read_models(archive)
        try:
            head = archive.app.head()
            before = {s.name: s for s in models.runner.status()}
            assert all(s.head == head and s.lag == head - s.position for s in before.values())
            # Nothing read the search index or the months yet: all of the log to follow. The
            # write path catches the worklists up as it files (it checks one claim per order),
            # and the demo's own steps read the vehicles, fees and contacts while loading (who
            # to remind and greet, the month's fee): those stand part way, where they were read.
            assert before["search"].lag == before["months"].lag == head
            assert 0 < before["vehicles"].lag < head and before["worklists"].lag < head
            models.runner.catch_up("vehicles")
            after = {s.name: s for s in models.runner.status()}
            assert after["vehicles"].lag == 0 and after["vehicles"].position == head
            # Catching one up moves no other.
            others = {name: s.position for name, s in after.items() if name != "vehicles"}
            assert others == {n: s.position for n, s in before.items() if n != "vehicles"}
        finally:
            models.close()
    finally:
        archive.close()
