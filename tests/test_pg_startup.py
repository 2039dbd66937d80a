"""Issue 17, item 5: processes that open the archive at the same moment all start.

On PostgreSQL the event store's table, type and insert function are created under an advisory
lock (``events/pg_recorder.py``; was: "tuple concurrently updated"); in one ``$ARCHIVE_HOME``
the SQLite files and the search index are created under the home's opening lock
(``archive.bootstrap.opening``; was: "database is locked", "File '_MAIN_0.toc' exists")."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import psycopg
import pytest

from archive.bootstrap import open_archive
from archive.config import Settings

PROCESSES = 6


def _open_at_once(
    index: int, url: str | None, homes: list[str], read_models: bool, barrier, results
) -> None:
    for home in homes:
        home = home.format(index=index)
        barrier.wait(timeout=120)
        try:
            archive = open_archive(Settings(home=Path(home), database_url=url))
            if read_models:
                with archive.read_models() as models:
                    models.runner.status()
            archive.app.head()
            archive.close()
            results.put("ok")
        except Exception as error:  # the test reports what each process met
            results.put(f"{type(error).__name__}: {error}")


def open_at_once(url: str | None, homes: list[str], read_models: bool) -> list[str]:
    """What each of several processes met, opening each home at the same moment (a home
    holding ``{index}`` is one per process)."""
    context = multiprocessing.get_context("spawn")  # no connection or pool shared by fork
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=_open_at_once, args=(index, url, homes, read_models, barrier, results)
        )
        for index in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=180) for _ in range(PROCESSES * len(homes))]
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


@pytest.mark.postgres
def test_processes_opening_a_fresh_postgres_database_at_once_all_start(
    postgres_url: str, tmp_path: Path
) -> None:
    # Each process its own home (so no file lock orders them): only the database is shared.
    # Four rounds: the first on an empty database, the others on one whose tables exist
    # (CREATE OR REPLACE FUNCTION raced there too).
    homes = [str(tmp_path / f"round{r}" / "{index}") for r in range(4)]
    outcomes = open_at_once(postgres_url, homes, read_models=False)
    assert sorted(set(outcomes)) == ["ok"]
    with psycopg.connect(postgres_url) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'es_insert_events%'"
        ).fetchone()  # type: ignore[misc]
    assert count == 1


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_processes_opening_one_fresh_home_at_once_all_start(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url") if store == "postgres" else None
    homes = [str(tmp_path / f"home{r}") for r in range(3)]
    outcomes = open_at_once(url, homes, read_models=True)
    assert sorted(set(outcomes)) == ["ok"]


@pytest.mark.postgres
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
