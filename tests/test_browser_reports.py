"""The satisfaction report in a real browser: a clerk opens 月客户满意度回访表 for a demo month,
reads the figures and tables on the page, clicks 下载 Excel, and the spreadsheet read back with
openpyxl holds every one of those numbers.

Screenshots: ``test-artifacts/screenshots/report-satisfaction.png`` (and report-weekly-callbacks,
report-complaints).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openpyxl import load_workbook

from archive.bootstrap import Archive, open_archive
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from tests.support import FakeClock
from tests.test_browser import browser, free_port, shot  # noqa: F401  (fixtures)
from web.app import create_app

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-1"
# Beijing 10:00 on 2 December 2026: November is over, its report due tomorrow.
CLOCK = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Archive, str]]:
    """A web server over two demo months; the username of a clerk who can log in."""
    home = tmp_path_factory.mktemp("browser-reports") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock(CLOCK))
    plan = generate(DemoSpec(month="2026-11", months=2, work_orders=40))  # a trend of two
    load(archive, plan, password=PASSWORD)
    clerk = next(s.username for s in plan.staff if "clerk" in s.roles)
    with archive.read_models() as models:
        models.runner.catch_up()
    port = free_port()
    config = uvicorn.Config(create_app(archive), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the web server did not start"
    yield f"http://127.0.0.1:{port}", archive, clerk
    uv.should_exit = True
    thread.join(timeout=10)
    archive.close()


def shown(value: Any, number_format: str) -> str:
    """A spreadsheet cell as the page writes the same value."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if number_format == "yyyy-mm-dd" else f"{value:%Y-%m-%d %H:%M}"
        )
    if isinstance(value, date):
        return value.isoformat()
    if number_format == "0.0%":
        return f"{value * 100:.1f}%"
    if number_format == "0.00":
        return f"{value:.2f}"
    if number_format == "#,##0":
        return f"{value:,}"
    return str(value)


def sheet_rows(path: Path) -> list[list[str]]:
    sheet = load_workbook(path).active
    return [
        [shown(cell.value, cell.number_format) if cell.value is not None else "" for cell in row]
        for row in sheet.iter_rows()
    ]


def sheet_figures(rows: list[list[str]], labels: list[str]) -> list[str]:
    """The values under the row of figure labels."""
    at = next(i for i, row in enumerate(rows) if row[: len(labels)] == labels)
    return rows[at + 1][: len(labels)]


def sheet_table(rows: list[list[str]], title: str, width: int) -> list[list[str]]:
    """The header and rows of the table titled ``title``, down to the blank row after it."""
    at = next(i for i, row in enumerate(rows) if row and row[0] == title)
    found = []
    for row in rows[at + 1 :]:
        if not any(row):
            break
        found.append([cell or "—" for cell in row[:width]])
    return found


def page_table(page: Any, key: str) -> list[list[str]]:
    section = page.locator(f"section[data-table='{key}']")
    head = [th.strip() for th in section.locator("thead th").all_inner_texts()]
    body = [
        [td.strip() for td in tr.locator("td").all_inner_texts()]
        for tr in section.locator("tbody tr").all()
    ]
    return [head, *body]


def test_the_satisfaction_page_and_its_spreadsheet_agree(
    demo_server: tuple[str, Archive, str],
    browser: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, _, clerk = demo_server
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1400, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{base}/")
    page.fill("input[name=username]", clerk)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/reports/satisfaction?month=2026-11")
    assert "月客户满意度回访表" in page.locator("h1").inner_text()

    labels = [t.strip() for t in page.locator(".figure .label").all_inner_texts()]
    values = [t.strip() for t in page.locator(".figure .value").all_inner_texts()]
    assert labels[:3] == ["回访次数", "已接通", "接通率"] and values[0] != "—"
    assert values[2].endswith("%") and "." in values[3]  # a rate and an average, as shown
    by_advisor = page_table(page, "by_advisor")
    items = page_table(page, "items")
    assert by_advisor[-1][0] == "合计" and len(by_advisor) >= 4  # head, advisors, total
    assert len(items) == 10  # head, eight scores and the yes/no question
    assert "<svg" in page.locator(".report-chart").first.inner_html()
    # 14 columns within the content column at 1400 px (before: 1376 px wide in 1168).
    widths = page.evaluate(
        "[document.querySelector('main').clientWidth,"
        " document.querySelector('section[data-table=by_advisor] table').offsetWidth]"
    )
    assert widths[1] <= widths[0], widths
    shot(page, "report-satisfaction")

    with page.expect_download() as caught:
        page.click("a[data-download=xlsx]")
    saved = tmp_path / "satisfaction.xlsx"
    caught.value.save_as(saved)
    assert caught.value.suggested_filename.endswith(".xlsx")

    rows = sheet_rows(saved)
    assert sheet_figures(rows, labels) == values
    assert sheet_table(rows, "按服务顾问", len(by_advisor[0])) == by_advisor
    assert sheet_table(rows, "各项平均（全部）", len(items[0])) == items

    # The other two callback reports, for their screenshots.
    page.goto(f"{base}/reports/weekly-callbacks?week=2026-W47")
    assert page.locator("[data-figure=due] .value").inner_text() != "—"
    shot(page, "report-weekly-callbacks")
    page.goto(f"{base}/reports/complaints?month=2026-11")
    assert "投诉" in page.locator("section[data-table=problems]").inner_text()
    # The sentences' columns keep a width (before: about one character, 59 px).
    for label in ("问题描述", "处理措施"):
        head = page.locator(f"section[data-table=problems] th:text-is('{label}')")
        assert head.evaluate("th => th.offsetWidth") >= 120, label
    shot(page, "report-complaints")
    context.close()
