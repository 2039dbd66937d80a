"""Search at its edges: a month that cannot be is a clear error like a bad date, and while the
index cannot follow the archive (``archive rebuild search`` holds its writer in another
process) the API and the page say that the results may be incomplete."""

from __future__ import annotations

import pytest

from archive import commands
from archive.bootstrap import Archive, open_archive, open_read_models
from archive.config import Settings
from projections.search.query import QueryError, parse
from tests.support import work_order
from tests.webclient import WebClient
from web.app import create_app

SQLITE_ONLY = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
PASSWORD = "counter-pass-1"


@pytest.mark.parametrize("month", ["2026-99", "2026-13", "2026-00", "2026-1"])
def test_a_month_that_cannot_be_is_a_query_error(month: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse(f"刹车 month:{month}")
    assert "不是月份" in refused.value.message_zh and refused.value.problems[0].field == "q"


def test_a_real_month_is_a_filter() -> None:
    assert "2026-12" in repr(parse("month:2026-12").where)


@SQLITE_ONLY
def test_the_api_refuses_a_bad_month_as_it_refuses_a_bad_date(team: Archive) -> None:
    token = commands.issue_token(team, "admin", "search", "admin")[1]
    web = WebClient(create_app(team, follow_log=False))
    try:
        headers = {"Authorization": f"Bearer {token}"}
        for q in ("month:2026-99", "date:2026-99-01"):
            answer = web.get("/api/v1/search", params={"q": q}, headers=headers)
            assert answer.status_code == 422, answer.text
            assert answer.json()["error"] == "bad_query"
    finally:
        web.close()


@SQLITE_ONLY
def test_search_says_results_may_be_incomplete_while_the_index_is_held(team: Archive) -> None:
    commands.set_password(team, "admin", PASSWORD, "admin")
    token = commands.issue_token(team, "admin", "search", "admin")[1]
    headers = {"Authorization": f"Bearer {token}"}
    web = WebClient(create_app(team, follow_log=False))
    rebuild = open_read_models(team)  # as the `archive rebuild search` process opens them
    try:
        web.login("admin", PASSWORD)
        ask = {"q": "刹车"}
        before = web.get("/api/v1/search", params=ask, headers=headers).json()
        assert before["incomplete"] is False and "notice_zh" not in before
        with rebuild.search.batch():  # the index's writer, held as a rebuild holds it
            commands.file_document(team, "work_order", work_order("WO-0077"), "admin")
            during = web.get("/api/v1/search", params=ask, headers=headers).json()
            assert during["incomplete"] is True and during["total"] == 0
            assert "可能不完整" in during["notice_zh"] and during["notice_en"]
            page = web.get("/search", params=ask)
            assert page.status_code == 200 and "结果可能不完整" in page.text
        after = web.get("/api/v1/search", params=ask, headers=headers).json()
        assert after["incomplete"] is False and after["total"] == 1
        assert "结果可能不完整" not in web.get("/search", params=ask).text
    finally:
        rebuild.close()
        web.close()


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_a_page_beyond_any_reader_is_refused_not_a_crash(tmp_path, engine: str) -> None:
    # Page 100,000,000 made Tantivy allocate 480 GB and abort the server process.
    archive = open_archive(Settings(home=tmp_path / "home", search_engine=engine))
    models = open_read_models(archive)
    try:
        assert models.search.search("刹车", page=5001, page_size=20).total == 0  # 100,000th hit
        for page, size in ((10**8, 200), (5002, 20), (0, 20)):
            with pytest.raises(QueryError) as refused:
                models.search.search("刹车", page=page, page_size=size)
            assert "页码" in refused.value.message_zh
    finally:
        models.close()
        archive.close()
