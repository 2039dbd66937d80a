"""The engines' conformance suite: the same queries on the same small demo month give the same
hits in Whoosh, Tantivy and PostgreSQL (in the same order where the order is by date), and a
rebuild gives what following the log gave.

The demo's events are in SQLite; the postgres engine keeps its index in a throwaway database
of the test cluster (as ``bench/search.py`` does), so one demo serves every engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from archive.bootstrap import Archive, open_archive
from archive.config import FILE_ENGINES, SEARCH_ENGINES, Settings
from archive.demo import DemoSpec, generate, load
from archive.kinds.catalog import RegistryCatalog
from projections.runner import ProjectionRunner
from projections.search.projection import SearchProjection
from tests.pgcluster import PostgresCluster
from tests.support import FakeClock, each_engine

QUERIES = [
    "刹车",
    "保养",  # the label of a chosen value (daily report lines)
    "一般维修",
    "三包",  # a kind's name, and its synonyms
    "制动",  # a synonym of 刹车
    "发动机 故障灯",
    "更换 机油",
    "异响 kind:work_order",
    "kind:warranty_claim",
    "kind:三包索赔单 status:已上报",
    "status:待签字",
    "flag:amended",
    "flag:late",
    "flag:late_submission",  # submitted late, or not submitted and past the deadline today
    "kind:warranty_claim -flag:上报逾期",
    "flag:submission_due",
    "status:voided",
    "-刹车 kind:work_order",
    "刹车 -kind:work_order",
    "month:2026-10 kind:callback",
    "date:2026-10-01..2026-10-10",
    "刹车 sort:date",
    "history:yes 异响",
    "WO2610",  # a number prefix
    "不存在的词语",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    home = tmp_path_factory.mktemp("engines") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    load(archive, generate(DemoSpec(month="2026-10", work_orders=40)))
    try:
        yield archive
    finally:
        archive.close()


@pytest.fixture(scope="module")
def engines(demo: Archive, postgres_cluster: PostgresCluster) -> Iterator[dict[str, Any]]:
    """Each engine's read models (what the tests use of them: ``search`` and ``runner``)."""
    from projections.search.pg_backend import PgSearchBackend

    name = f"engines_{uuid.uuid4().hex[:12]}"
    backend = PgSearchBackend(postgres_cluster.create_database(name))
    search = SearchProjection(
        backend, demo.app, RegistryCatalog(demo.settings.deadline_days), demo.settings.tz,
        clock=demo.now,
    )  # fmt: skip
    runner = ProjectionRunner(demo.app, [search])
    runner.catch_up()
    try:
        with each_engine(demo) as opened:
            yield {**opened, "postgres": SimpleNamespace(search=search, runner=runner)}
    finally:
        runner.close()
        postgres_cluster.drop_database(name)


def answer(models: Any, query: str) -> tuple[int, set[tuple[str, str, int]], list[str]]:
    """How many, which (document, entry, version), and the dates in the order given; the order
    by relevance is each engine's own, so only the dates of a date-sorted answer count."""
    result = models.search.search(query, page_size=500)
    hits = {(h.doc_id, h.entry, h.version) for h in result.hits}
    by_date = "sort:date" in query or all(":" in w for w in query.split() if w[0] != "-")
    dates = [h.business_date for h in result.hits] if by_date else []
    return result.total, hits, dates


@pytest.mark.parametrize("query", QUERIES)
def test_every_engine_gives_the_same_hits(engines: dict[str, Any], query: str) -> None:
    whoosh, *others = (answer(models, query) for models in engines.values())
    for other in others:
        assert other == whoosh


def test_the_mix_finds_something(engines: dict[str, Any]) -> None:
    """The conformance above is worth something only if the queries hit documents."""
    found = [q for q in QUERIES if answer(engines["whoosh"], q)[0]]
    assert len(found) >= len(QUERIES) - 3, set(QUERIES) - set(found)


@pytest.mark.parametrize("engine", SEARCH_ENGINES)
def test_a_rebuild_gives_what_following_the_log_gave(engines: dict[str, Any], engine: str) -> None:
    models = engines[engine]
    before = {q: answer(models, q) for q in QUERIES}
    entries = list(models.search.backend.entries())
    models.runner.rebuild("search")
    assert list(models.search.backend.entries()) == entries
    assert {q: answer(models, q) for q in QUERIES} == before


@pytest.mark.parametrize("engine", FILE_ENGINES)
def test_a_rebuild_swaps_the_whole_index_in_and_leaves_no_folder_behind(
    engines: dict[str, Any], engine: str
) -> None:
    models = engines[engine]
    live = models.search.backend.directory
    models.runner.rebuild("search")
    first = live.resolve()
    models.runner.rebuild("search")
    assert live.is_symlink() and live.resolve() != first and not first.exists()
    assert sorted(p.name for p in live.parent.iterdir() if p.name.startswith(engine)) == [
        engine,
        live.resolve().name,
    ]


@pytest.mark.parametrize("engine", FILE_ENGINES)
def test_following_a_log_with_nothing_new_commits_nothing(
    engines: dict[str, Any], engine: str
) -> None:
    models = engines[engine]
    models.runner.catch_up()
    files = sorted(p.name for p in models.search.backend.directory.resolve().iterdir())
    assert models.runner.catch_up() == 0
    assert sorted(p.name for p in models.search.backend.directory.resolve().iterdir()) == files


def test_the_engine_is_a_setting(tmp_path) -> None:
    from archive.config import search_engine

    settings = tmp_path / "settings.toml"
    assert search_engine(settings, {}) == "whoosh"
    settings.write_text('[search]\nengine = "tantivy"\n', encoding="utf-8")
    assert search_engine(settings, {}) == "tantivy"
    assert search_engine(settings, {"ARCHIVE_SEARCH_ENGINE": "Whoosh"}) == "whoosh"
    with pytest.raises(ValueError, match="lucene"):
        search_engine(settings, {"ARCHIVE_SEARCH_ENGINE": "lucene"})
    # Several servers on one database read one index: postgres unless another is chosen.
    url = {"ARCHIVE_DATABASE_URL": "postgresql://archive@db/archive"}
    assert search_engine(settings, url) == "tantivy"
    settings.unlink()
    assert search_engine(settings, url) == "postgres"
    assert search_engine(settings, {**url, "ARCHIVE_SEARCH_ENGINE": "whoosh"}) == "whoosh"
    with pytest.raises(ValueError, match="ARCHIVE_DATABASE_URL"):
        search_engine(settings, {"ARCHIVE_SEARCH_ENGINE": "postgres"})


def test_postgres_counts_up_to_its_cap_and_pages_no_further(engines: dict[str, Any]) -> None:
    """The demo is far below the real cap; a second reader of the same index with a cap of 5
    says "more than 5", gives the same newest pages, and none past the cap."""
    from projections.search.pg_backend import PgSearchBackend
    from projections.search.query import parse

    exact = engines["postgres"].search.backend
    capped = PgSearchBackend(exact.url, total_cap=5)
    try:
        for text in ("kind:work_order", "刹车"):
            full = exact.search(parse(text), page_size=2)
            assert full.total > 5 and not full.total_capped
            first = capped.search(parse(text), page_size=2)
            assert (first.total, first.total_capped, first.pages) == (5, True, 3)
            assert first.hits == full.hits
            assert first.as_dict()["total_capped"] is True
        last = capped.search(parse("kind:work_order"), page=3, page_size=2)
        assert last.hits == exact.search(parse("kind:work_order"), page=3, page_size=2).hits[:1]
        assert capped.search(parse("kind:work_order"), page=4, page_size=2).hits == ()
        few = capped.search(parse("不存在的词语"))
        assert (few.total, few.total_capped) == (0, False)
    finally:
        capped.close()


def test_a_capped_total_reads_as_more_than_on_the_page() -> None:
    from projections.search.backend import SearchResult
    from web.templating import TEMPLATES

    page = TEMPLATES.env.get_template("search.html").render(
        params={}, query="刹车", result=SearchResult(10_000, 1, 20, (), True),
        kinds={}, statuses={}, flags={}, page_url=lambda n: f"?page={n}",
    )  # fmt: skip
    assert "超过 10,000 条" in page and "请加条件缩小范围" in page and "第 1 / 500 页" in page
    assert "共 10000 条" not in page
