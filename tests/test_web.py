"""The web app served in-process (the full front end is a later issue; this is its shell)."""

from __future__ import annotations

import asyncio

import httpx

from archive.bootstrap import Archive
from web.app import create_app


def get(app, path: str) -> httpx.Response:
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://archive") as client:
            return await client.get(path)

    return asyncio.run(fetch())


def test_home_page_speaks_chinese_and_counts_events(team: Archive) -> None:
    app = create_app(team, follow_log=False)
    page = get(app, "/")
    assert page.status_code == 200
    assert "售后档案系统" in page.text
    assert "三包索赔单" in page.text
    health = get(app, "/healthz").json()
    assert health["ok"] is True
    assert health["events"] == team.app.head()
    assert {p["name"] for p in health["projections"]} == {"search", "vehicles"}
