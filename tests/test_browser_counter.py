"""The counter's friction, clicked through in Chromium (as ``tests/test_browser.py`` drives it):
a dashboard list followed to its end, and a long bundle check followed on its page until the
report opens by itself. Screenshots go to ``test-artifacts/screenshots``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.bundle.pipeline import print_document
from archive.config import Settings
from tests.support import FakeClock, register_team, work_order
from tests.test_browser import PASSWORD, browser, free_port, log_in, shot  # noqa: F401
from web.app import create_app
from web.pages import verify as verify_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Archive]]:
    import threading

    home = tmp_path_factory.mktemp("counter") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    register_team(archive)
    for username in ("admin", "auditor"):
        commands.set_password(archive, username, PASSWORD, "admin")
    for n in range(1, 41):  # 40 callbacks overdue: more than the dashboard shows
        data = work_order(f"WO-{n:04d}", business_date="2026-10-01")
        commands.file_document(archive, "work_order", data, "admin")
    port = free_port()
    config = uvicorn.Config(create_app(archive), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web server did not start"
    yield f"http://127.0.0.1:{port}", archive
    server.should_exit = True
    thread.join(timeout=10)
    archive.close()


def test_a_clerk_follows_more_to_the_whole_list(counter, browser) -> None:  # noqa: F811
    base, _ = counter
    clerk = log_in(browser, base, "admin")
    more = clerk.locator("a[data-more=callbacks]")
    assert "还有 25 份" in more.inner_text()
    shot(clerk, "counter-dashboard")
    more.click()
    clerk.wait_for_url(f"{base}/todo/callbacks")
    assert clerk.locator("table[data-worklist=callbacks] a[href^='/d/work_order/']").count() == 40
    shot(clerk, "counter-callbacks")
    clerk.context.close()


def test_an_auditor_watches_a_long_check_until_its_report_opens(
    counter,
    browser,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, archive = counter
    saved = tmp_path / "WO-0001.pdf"
    saved.write_bytes(print_document(archive, "work_order", "WO-0001").pdf)
    monkeypatch.setattr(verify_page, "QUICK_SECONDS", 0.0)  # answered like a month's bundle
    real_work = verify_page._work

    def slow_work(archive, key):  # the real check, after a pause long enough to be watched
        work = real_work(archive, key)

        def paused(stream, progress):
            progress("pages", 0, 1)
            time.sleep(2)
            return work(stream, progress)

        return paused

    monkeypatch.setattr(verify_page, "_work", slow_work)
    auditor = log_in(browser, base, "auditor")
    assert auditor.locator("a[href='/file']").count() == 0  # nothing to file for an auditor
    auditor.goto(f"{base}/verify-bundle")
    auditor.set_input_files("input[name=bundle]", str(saved))
    auditor.click("button:has-text('核验')")
    auditor.wait_for_url("**/verify-bundle?job=*")
    assert "正在核验 WO-0001.pdf" in auditor.locator("[data-job]").inner_text()
    shot(auditor, "counter-verify-progress")
    verdict = auditor.locator("[data-verdict]")
    verdict.wait_for(timeout=60_000)  # the page follows the job and opens the report itself
    assert verdict.get_attribute("data-verdict") == "intact"
    assert "WO-0001.pdf 核验通过" in verdict.inner_text()
    shot(auditor, "counter-verify-followed")
    auditor.context.close()
