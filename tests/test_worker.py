"""``archive worker``: several at once apply each event once; one killed mid-batch loses and
repeats nothing; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.bootstrap import Archive, ReadModels, open_archive
from archive.config import Settings
from archive.demo import DemoSpec, generate, load

# The SQL read models a worker keeps (search has its own tests and engines).
FOLLOWED = ("vehicles", "months", "scans", "ledger", "worklists")
TABLES = (
    ("vehicles", "vehicle_records"),
    ("vehicles", "vehicle_summaries"),
    ("worklists", "wl_docs"),
    ("worklists", "wl_owed"),
    ("months", "month_documents"),
    ("scans", "attached_scans"),
)


@pytest.fixture
def demo(postgres_url: str, tmp_path: Path) -> Iterator[Archive]:
    archive = open_archive(Settings(home=tmp_path / "home", database_url=postgres_url))
    try:
        load(archive, generate(DemoSpec(month="2026-10", work_orders=12)))
        yield archive
    finally:
        archive.close()


def worker(archive: Archive, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ARCHIVE_HOME": str(archive.settings.home)}
    if archive.settings.database_url:
        env["ARCHIVE_DATABASE_URL"] = archive.settings.database_url
    only = [a for name in FOLLOWED for a in ("--only", name)]
    return subprocess.Popen(
        [sys.executable, "-m", "archive.cli", "worker", *only, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def rows(models: ReadModels) -> dict[str, list[tuple]]:
    found = {
        table: sorted(tuple(r) for r in getattr(models, name).query(f"SELECT * FROM {table}"))
        for name, table in TABLES
    }
    found["ledger"] = [(h,) for h in models.ledger.leaf_hashes()]
    return found


def applied_by(log: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name, count in re.findall(r"(\w+) \+(\d+)", log):
        counts[name] += int(count)
    return counts


@pytest.mark.postgres
def test_two_workers_apply_every_event_once(demo: Archive) -> None:
    with demo.read_models() as models:
        for name in FOLLOWED:
            models.runner.projections[name].reset()
    head = demo.app.head()
    workers = [worker(demo, "--once", "--batch-size", "20", "--interval", "0.05") for _ in "ab"]
    logs = [w.communicate(timeout=240)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], logs
    total = applied_by(logs[0]) + applied_by(logs[1])
    assert {name: total[name] for name in FOLLOWED} == dict.fromkeys(FOLLOWED, head), logs
    assert all("worker stopped" in log for log in logs)
    # What an operator looks at: no lag; and a rebuild on PostgreSQL replays the whole log.
    status = json.loads(cli(demo, "status", "--json"))
    assert {s["name"]: s["lag"] for s in status if s["name"] in FOLLOWED} == dict.fromkeys(
        FOLLOWED, 0
    )
    rebuilt = json.loads(cli(demo, "rebuild", "vehicles", "--json"))
    assert rebuilt["events"] == head


def cli(archive: Archive, *args: str) -> str:
    env = {**os.environ, "ARCHIVE_HOME": str(archive.settings.home)}
    env["ARCHIVE_DATABASE_URL"] = archive.settings.database_url or ""
    done = subprocess.run(
        [sys.executable, "-m", "archive.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.mark.postgres
def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(demo: Archive) -> None:
    with demo.read_models() as models:
        for name in FOLLOWED:
            models.runner.projections[name].reset()
        head = demo.app.head()
        running = worker(demo, "--batch-size", "5", "--interval", "0.05")
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                positions = [models.runner.projections[n].position() for n in FOLLOWED]
                if any(0 < p < head for p in positions):
                    break  # mid catch-up: a batch is being applied right now
                time.sleep(0.005)
        finally:
            running.send_signal(signal.SIGKILL)
            running.wait()
        positions = [models.runner.projections[n].position() for n in FOLLOWED]
        assert any(p < head for p in positions), "the worker finished before it was killed"
        models.runner.catch_up()
        resumed = rows(models)
        for name in FOLLOWED:
            models.runner.rebuild(name)
        assert rows(models) == resumed


def test_sigterm_stops_a_worker_between_batches(tmp_path: Path) -> None:
    archive = open_archive(Settings(home=tmp_path / "home"))
    archive.close()
    running = worker(archive, "--interval", "0.1")
    assert running.stderr is not None
    while "worker started" not in running.stderr.readline():
        assert running.poll() is None, "the worker ended before it started"
    running.send_signal(signal.SIGTERM)
    _, rest = running.communicate(timeout=30)
    assert running.returncode == 0
    assert "worker stopped" in rest
