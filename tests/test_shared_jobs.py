"""Bundle jobs and the login throttle shared between servers (issue 16, point 5).

"Servers" are web apps over archives on one database with homes of their own (two machines).
A job's state lives in the database and the finished bundle in the blob store, so a bundle
started on one server is polled and downloaded from the other; a job whose server stopped is
shown failed; five wrong passwords spread over two servers are throttled as one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.bundle.job_table import LEASE_SECONDS, SERVER_GONE
from archive.bundle.pipeline import bundle_volume
from archive.config import Settings
from archive.staff.throttle import LoginThrottle
from tests.support import PASSWORD, FakeClock, register_team, work_order
from tests.webclient import WebClient
from web.app import create_app
from web.jobs import BundleJob, BundleJobs


def seal_november(archive: Archive) -> None:
    for number in ("WO-0001", "WO-0002"):
        commands.file_document(archive, "work_order", work_order(number), "admin")
    commands.seal_month(archive, "2026-11", "sun", force_reason="厂家要求月底寄回")


def open_web(archive: Archive) -> WebClient:
    web = WebClient(create_app(archive, follow_log=False))
    assert web.login("admin", PASSWORD).status_code == 303
    return web


def wait_done(web: WebClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = web.get(f"/jobs/{job_id}").json()
        if status["state"] != "running":
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still running")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def two(postgres_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Archive, Archive]]:
    """Two archives on one database, on one clock (the lease is judged by it)."""
    first = open_archive(Settings(home=tmp_path / "a", database_url=postgres_url), clock)
    register_team(first)
    commands.set_password(first, "admin", PASSWORD, "admin")
    second = open_archive(Settings(home=tmp_path / "b", database_url=postgres_url), clock)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_a_bundle_is_made_once_and_downloaded(tmp_path: Path) -> None:
    """One machine on SQLite, as before: start, poll, download; asked again, done at once.
    (PostgreSQL: the next test.)"""
    archive = open_archive(Settings(home=tmp_path / "home"), FakeClock())
    register_team(archive)
    seal_november(archive)
    commands.set_password(archive, "admin", PASSWORD, "admin")
    web = open_web(archive)
    try:
        csrf = web.csrf("/months/2026-11")
        form = {"csrf_token": csrf, "binding": "return"}
        job_id = web.post("/months/2026-11/bundles", data=form).headers["location"].split("job=")[1]
        status = wait_done(web, job_id)
        assert status["state"] == "done", status
        pdf = web.get(status["url"])
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        jobs: BundleJobs = web.app.state.bundle_jobs
        again = jobs.start("2026-11", 0, "return")
        assert again.state == "done" and again.as_dict()["url"] == status["url"]
        assert [p for p in archive.layout.blobs.rglob("*.pdf")] == []  # named by hash only
    finally:
        web.close()
        archive.close()


@pytest.mark.postgres
def test_started_on_one_server_downloaded_from_the_other(two: tuple[Archive, Archive]) -> None:
    first, second = two
    seal_november(first)
    web_a, web_b = open_web(first), open_web(second)
    try:
        csrf = web_a.csrf("/months/2026-11")
        started = web_a.post(
            "/months/2026-11/bundles", data={"csrf_token": csrf, "binding": "return"}
        )
        job_id = started.headers["location"].split("job=")[1]
        status = wait_done(web_b, job_id)  # polled on the other server
        assert status["state"] == "done", status
        from_b = web_b.get(status["url"])
        from_a = web_a.get(status["url"])
        assert from_b.status_code == 200 and from_b.content == from_a.content
        assert from_b.content.startswith(b"%PDF-")
        assert "正在生成" in web_b.get(f"/months/2026-11?job={job_id}").text
    finally:
        web_a.close()
        web_b.close()


@pytest.mark.postgres
def test_a_job_whose_server_stopped_is_shown_failed(
    two: tuple[Archive, Archive], clock: FakeClock
) -> None:
    first, second = two
    seal_november(first)
    gate = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        kwargs["progress"]("load", 0, 2)
        assert gate.wait(60)
        return bundle_volume(*args, **kwargs)

    on_a, on_b = BundleJobs(first, render=held), BundleJobs(second)
    try:
        job = on_a.start("2026-11", 0, "full")
        clock.advance(seconds=LEASE_SECONDS + 1)
        on_a.table.beat(on_a.server)  # what its heartbeat does every few seconds
        seen = on_b.get(job.id)
        assert isinstance(seen, BundleJob) and seen.state == "running"
        on_a.close()  # the first server stops: no more heartbeats
        clock.advance(seconds=LEASE_SECONDS + 1)
        gone = on_b.get(job.id)
        assert isinstance(gone, BundleJob)
        assert (gone.state, gone.error) == ("failed", SERVER_GONE)
        assert on_b.bundle_file("2026-11", 0, "full") is None
        gate.set()  # a late finish does not bring the job back, but keeps the bundle made
        deadline = time.monotonic() + 120
        while on_b.bundle_file("2026-11", 0, "full") is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert on_b.get(job.id).state == "failed"  # type: ignore[union-attr]
        assert on_b.start("2026-11", 0, "full").state == "done"
    finally:
        gate.set()
        on_b.close()


@pytest.mark.postgres
def test_five_wrong_passwords_over_two_servers_are_throttled_as_one(
    two: tuple[Archive, Archive],
) -> None:
    commands.set_password(two[0], "li", PASSWORD, "admin")
    servers = [WebClient(create_app(a, follow_log=False)) for a in two]
    try:
        answers = [servers[n % 2].login("li", "guess").status_code for n in range(5)]
        assert answers == [401] * LoginThrottle.FREE_ATTEMPTS + [429] * 2
        waiting = servers[1].login("li", PASSWORD)  # the right one must wait too
        assert waiting.status_code == 429 and "秒后再试" in waiting.text
    finally:
        for server in servers:
            server.close()
