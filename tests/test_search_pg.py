"""What is particular to the PostgreSQL search engine (the conformance suite holds it to the
same answers as the others): one index for several servers, writers that take turns across
processes, the position committed with the rows, a rebuild that readers never see half done,
and tables of another version made again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest

from archive.bootstrap import search_backend
from archive.config import Settings
from projections.runner import ProjectionBusy
from projections.search.backend import IndexEntry
from projections.search.pg_backend import PgSearchBackend
from projections.search.query import parse

pytestmark = pytest.mark.postgres


def entry(number: str, text: str, **fields: object) -> IndexEntry:
    values: dict[str, object] = dict(
        key=f"id-{number}",
        entry="current",
        doc_id=f"id-{number}",
        kind="work_order",
        number=number,
        version=1,
        text=text,
        business_date=20261105,
        month="2026-11",
        status="complete",
    )
    values.update(fields)
    return IndexEntry(**values)  # type: ignore[arg-type]


@pytest.fixture
def backend(postgres_url: str) -> Iterator[PgSearchBackend]:
    opened = PgSearchBackend(postgres_url)
    try:
        yield opened
    finally:
        opened.close()


def numbers(backend: PgSearchBackend, text: str) -> list[str]:
    return sorted(h.number for h in backend.search(parse(text)).hits)


def test_two_servers_read_one_index(backend: PgSearchBackend, postgres_url: str) -> None:
    other = PgSearchBackend(postgres_url)  # a second server: its own connections
    try:
        with backend.writer() as writer:
            writer.put(entry("WO-1", "刹车片磨损，更换刹车片"))
            writer.put_staff("wang", "王强")
            writer.position = 7
        assert numbers(other, "刹车") == ["WO-1"]
        assert other.position() == 7 and other.staff_names() == {"wang": "王强"}
    finally:
        other.close()


def test_a_second_writer_anywhere_is_told_the_projection_is_busy(
    backend: PgSearchBackend, postgres_url: str
) -> None:
    other = PgSearchBackend(postgres_url)
    try:
        with backend.writer(), pytest.raises(ProjectionBusy), other.writer():
            pass  # pragma: no cover - the writer is refused
        with other.writer() as writer:  # free again once the first committed
            writer.position = 3
        assert backend.position() == 3
    finally:
        other.close()


def test_rows_and_position_commit_together_or_not_at_all(backend: PgSearchBackend) -> None:
    with pytest.raises(RuntimeError), backend.writer() as writer:
        writer.put(entry("WO-1", "发动机故障灯亮"))
        writer.position = 5
        raise RuntimeError("the worker died mid-batch")
    assert backend.position() == 0 and list(backend.entries()) == []


def test_searches_during_a_rebuild_see_the_old_index(backend: PgSearchBackend) -> None:
    with backend.writer() as writer:
        writer.put(entry("WO-OLD", "空调不制冷"))
        writer.position = 1
    seen: list[list[str]] = []

    def fresh() -> Iterator[IndexEntry]:
        yield entry("WO-NEW", "空调异响")
        # Asked from another thread (its own connection) while the new rows are loading.
        reader = threading.Thread(target=lambda: seen.append(numbers(backend, "空调")))
        reader.start()
        reader.join()

    backend.replace_all(fresh(), {"li": "李娜"}, 9)
    assert seen == [["WO-OLD"]]
    assert numbers(backend, "空调") == ["WO-NEW"]
    assert backend.position() == 9 and backend.staff_names() == {"li": "李娜"}


def test_a_word_with_quotes_and_backslashes_is_a_word(backend: PgSearchBackend) -> None:
    with backend.writer() as writer:
        writer.put(entry("WO-1", "客户说 O'Brien 的车 a\\b 异响", customer="O'Brien"))
    assert numbers(backend, '"o\'brien"') == ["WO-1"]
    assert numbers(backend, "'a\\b'") == numbers(backend, "a\\\\b")  # nothing breaks


def test_tables_of_another_version_are_made_again(
    backend: PgSearchBackend, postgres_url: str
) -> None:
    with backend.writer() as writer:
        writer.put(entry("WO-1", "更换机油"))
        writer.position = 4
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE search.state SET schema = 'an older version'")
    reopened = PgSearchBackend(postgres_url)
    try:
        assert reopened.position() == 0 and list(reopened.entries()) == []  # replayed next
    finally:
        reopened.close()


def test_with_a_database_the_engine_is_postgres(tmp_path, postgres_url: str) -> None:
    settings = Settings.from_env(
        {"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_DATABASE_URL": postgres_url}
    )
    assert settings.search_engine == "postgres"
    opened = search_backend(settings)
    try:
        assert isinstance(opened, PgSearchBackend) and opened.position() == 0
    finally:
        opened.close()
    with pytest.raises(ValueError, match="ARCHIVE_DATABASE_URL"):
        search_backend(replace(settings, database_url=None))


@pytest.mark.parametrize("hits_lie", ["newest", "oldest"])
def test_a_relevance_answer_is_the_same_however_its_newest_hits_are_found(
    backend: PgSearchBackend, monkeypatch: pytest.MonkeyPatch, hits_lie: str
) -> None:
    """A word in a tenth of a big archive reads the words' index since a date first; here,
    with smaller thresholds, in 400 entries. The answer is the one a backwards walk of the
    dates gives, also when every hit lies before that date (``oldest``: read again)."""
    import projections.search.pg_backend as pg

    def text(i: int) -> str:
        found = i < 80 if hits_lie == "oldest" else i % 5 == 0
        return ("刹车" * (1 + i % 3) if found else "更换机油") + "，检查底盘" * (i % 4)

    rows = [
        entry(f"WO-{i:03}", text(i), key=f"k{i}", business_date=20200101 + i) for i in range(400)
    ]
    backend.replace_all(rows, {}, 1)
    monkeypatch.setattr(pg, "RANKED_NEWEST", 10)
    answers = {}
    for bounded_walk in (10**9, 20):  # never bounded; bounded (a walk would read 50 rows)
        monkeypatch.setattr(pg, "BOUNDED_WALK", bounded_walk)
        answers[bounded_walk] = [backend.search(parse("刹车"), p, 4) for p in (1, 2, 3)]
    assert answers[20] == answers[10**9]
    assert [len(r.hits) for r in answers[20]] == [4, 4, 4] and answers[20][0].total == 80
