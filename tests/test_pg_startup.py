"""Issue 17, item 5: processes that open the archive on PostgreSQL at the same moment all
start (the tables, the index and the insert function are created once, under an advisory
lock), instead of failing with "tuple concurrently updated"."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import psycopg
import pytest

from archive.bootstrap import open_archive
from archive.config import Settings

pytestmark = pytest.mark.postgres

PROCESSES = 8


ROUNDS = 4  # the first on an empty database, the others on one that has the tables


def _open_at_once(url: str, home: str, barrier, results) -> None:
    for _ in range(ROUNDS):
        barrier.wait(timeout=60)
        try:
            archive = open_archive(Settings(home=Path(home), database_url=url))
            archive.app.head()
            archive.close()
            results.put("ok")
        except Exception as error:  # the test reports what each process met
            results.put(f"{type(error).__name__}: {error}")


def test_processes_opening_a_fresh_database_at_once_all_start(
    postgres_url: str, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")  # no connection pool shared by fork
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=_open_at_once, args=(postgres_url, str(tmp_path / f"h{i}"), barrier, results)
        )
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in range(PROCESSES * ROUNDS)]
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(set(outcomes)) == ["ok"]
    with psycopg.connect(postgres_url) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'es_insert_events%'"
        ).fetchone()  # type: ignore[misc]
    assert count == 1


def test_opening_an_existing_database_leaves_its_events(postgres_url: str, tmp_path: Path) -> None:
    from tests.support import register_team

    first = open_archive(Settings(home=tmp_path / "a", database_url=postgres_url))
    register_team(first)
    head = first.app.head()
    first.close()
    again = open_archive(Settings(home=tmp_path / "b", database_url=postgres_url))
    try:
        assert again.app.head() == head > 0
    finally:
        again.close()
