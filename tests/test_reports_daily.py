"""日报 (issue 13, report 1): every figure checked against the event log on a demo month, the
unsigned report on the service manager's worklist, and the page in a real browser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archive import commands
from archive.bootstrap import Archive, ReadModels, open_archive
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.kinds.registry import get_kind
from archive.reports.model import Report, ReportSource
from archive.reports.periods import parse_period
from archive.reports.run import report_spec
from projections.worklists import ANYONE
from tests import report_log
from tests.support import work_order

MONTH = "2026-11"
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
MANAGER = "service_manager"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, ReadModels]]:
    archive = open_archive(Settings(home=tmp_path_factory.mktemp("daily") / "home"))
    load(archive, generate(DemoSpec(month=MONTH, work_orders=60)))
    with archive.read_models() as models:
        models.runner.wait_for(timeout=120)
        yield archive, models
    archive.close()


def daily(archive: Archive, models: ReadModels, kind: str, text: str) -> Report:
    return report_spec("daily").build(ReportSource(archive, models), parse_period(kind, text))


def from_log(archive: Archive) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The live work orders and daily reports by business date, as the event log says."""
    orders: dict[str, list[Any]] = {}
    reports: dict[str, list[Any]] = {}
    for doc in report_log.documents(archive):
        if doc.kind in ("work_order", "daily_report"):
            day = doc.fields["business_date"].isoformat()
            (orders if doc.kind == "work_order" else reports).setdefault(day, []).append(doc)
    return orders, reports


def figures(report: Report) -> dict[str, Any]:
    return {f.key: f.value for f in report.figures}


def test_a_month_of_daily_reports_as_the_log_says(demo: tuple[Archive, ReadModels]) -> None:
    archive, models = demo
    report = daily(archive, models, "month", MONTH)
    orders, reports = from_log(archive)
    orders = {d: o for d, o in orders.items() if d.startswith(MONTH)}
    reports = {d: r for d, r in reports.items() if d.startswith(MONTH)}
    signers = list(get_kind("daily_report").signers)
    listed = {
        line["work_order_no"]
        for rs in reports.values()
        for r in rs
        for line in r.fields.get("lines", [])
    }
    missing = {d: [o for o in os if o.number not in listed] for d, os in orders.items()}
    revenue = sum((r.fields["revenue"] for rs in reports.values() for r in rs), Decimal(0))
    unsigned = [r for rs in reports.values() for r in rs if MANAGER in r.missing_roles(signers)]
    assert reports and any(missing.values())  # the demo has reports, and orders they miss
    assert figures(report) == {
        "reported_days": len(reports),
        "unreported_days": len([d for d in orders if d not in reports]),
        "manager_unsigned": len(unsigned),
        "missing": sum(len(m) for m in missing.values()),
        "work_orders": sum(len(o) for o in orders.values()),
        "revenue": revenue,
    }
    rows = {row["date"].isoformat(): row for row in report.tables[0].rows}
    assert len(rows) == 30
    for day, row in rows.items():
        assert row["work_orders"] == len(orders.get(day, []))
        assert row["missing"] == len(missing.get(day, []))
        filed = reports.get(day, [])
        assert row["filed"] == ("已报" if filed else "未报" if orders.get(day) else "无委托书")
        if filed:
            assert row["revenue"] == sum((r.fields["revenue"] for r in filed), Decimal(0))
            assert row["listed"] == sum(r.fields["work_order_count"] for r in filed)
    chart = report.charts[0]
    assert chart.kind == "bar" and list(chart.series[0].values) == [
        len(orders.get(f"{MONTH}-{d:02d}", [])) for d in range(1, 31)
    ]


def test_a_day_lists_the_report_its_lines_and_the_orders_it_misses(
    demo: tuple[Archive, ReadModels],
) -> None:
    archive, models = demo
    orders, reports = from_log(archive)
    day = next(
        d
        for d in sorted(reports)
        if {o.number for o in orders.get(d, [])}
        - {line["work_order_no"] for r in reports[d] for line in r.fields.get("lines", [])}
    )
    report = daily(archive, models, "day", day)
    (filed,) = reports[day]
    lines = filed.fields.get("lines", [])
    listed = {line["work_order_no"] for line in lines}
    assert figures(report)["reports"] == 1
    assert figures(report)["work_orders"] == len(orders[day])
    assert figures(report)["revenue"] == filed.fields["revenue"]
    assert figures(report)["missing"] == len([o for o in orders[day] if o.number not in listed])
    head, shown, missing = report.tables
    assert head.rows[0]["number"] == filed.number
    assert [r["work_order_no"] for r in shown.rows] == [line["work_order_no"] for line in lines]
    assert [r["amount"] for r in shown.rows] == [line["amount"] for line in lines]
    assert shown.total is not None and shown.total["amount"] == sum(
        (line["amount"] for line in lines), Decimal(0)
    )
    assert [r["number"] for r in missing.rows] == sorted(
        o.number for o in orders[day] if o.number not in listed
    )


def test_an_unsigned_report_waits_on_the_service_managers_worklist(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    draft = commands.draft_daily_report(team, date(2026, 11, 3))
    commands.file_document(team, "daily_report", draft, "admin")
    commands.sign_document(team, "daily_report", "DR20261103", "clerk", "admin")
    with team.read_models() as models:
        models.runner.wait_for()
        owed = models.worklists.owed(("sun", ANYONE), [MANAGER])
        assert [(r["kind"], r["number"], r["role"]) for r in owed] == [
            ("daily_report", "DR20261103", MANAGER)
        ]
        report = daily(team, models, "day", "2026-11-03")
        assert figures(report)["manager_signed"] == "否"
        assert report.tables[0].rows[0]["manager_signed"] == "未签"
    commands.sign_document(team, "daily_report", "DR20261103", MANAGER, "sun")
    with team.read_models() as models:
        models.runner.wait_for()
        assert models.worklists.owed(("sun", ANYONE), [MANAGER]) == []
        report = daily(team, models, "month", MONTH)
        assert figures(report)["manager_unsigned"] == 0
        assert report.tables[0].rows[2]["manager_signed"] == "已签"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.browser
def test_the_month_page_in_a_browser(demo: tuple[Archive, ReadModels]) -> None:
    """The month's page as Chromium draws it: figures, the chart, the table; a screenshot."""
    import uvicorn
    from playwright.sync_api import sync_playwright

    from web.app import create_app

    archive, _ = demo
    commands.set_password(archive, "admin", "report-pass-1", "admin")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(archive), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{base}/")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", "report-pass-1")
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{base}/")
            page.click("nav a:has-text('报表')")
            page.click("a[data-report=daily]")
            page.goto(f"{base}/reports/daily?month={MONTH}")
            assert page.locator("h1").inner_text().startswith("日报")
            assert page.locator("svg.chart rect").count() > 10
            assert page.locator("[data-table=days] tbody tr").count() == 31  # 30 days + total
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "report-daily.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_daily_reports_projection_rebuilds_to_the_same_rows(
    demo: tuple[Archive, ReadModels],
) -> None:
    from projections.runner import catch_up

    archive, models = demo
    before = models.daily_reports.query("SELECT * FROM dr_reports ORDER BY doc_id")
    assert before
    models.daily_reports.reset()
    assert models.daily_reports.query("SELECT count(*) AS n FROM dr_reports")[0]["n"] == 0
    catch_up(models.daily_reports, archive.log(), 37)  # other batches than the first time
    after = models.daily_reports.query("SELECT * FROM dr_reports ORDER BY doc_id")
    assert [dict(r) for r in after] == [dict(r) for r in before]
