"""Reports due on a day (daily on working days, the callback week on Monday, the month's on the
3rd) on the clerk's worklist and dashboard, each linked to its period; every report linked
from the dashboard; months without a service-fee invoice on the manager's."""

from __future__ import annotations

import re
from datetime import date

import pytest
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive
from archive.cli import app as cli
from archive.config import Settings
from archive.reports import catalog
from archive.reports.due import due_on, report_links
from tests.support import PASSWORD, file_claim, sign_and_scan_claim

MONTHLY = [s.name for s in catalog.specs() if s.due == "month_3rd"]


def due(day: date) -> list[tuple[str, str]]:
    return [(d["name"], d["period"]) for d in due_on(day)]


def test_what_is_due_when() -> None:
    assert MONTHLY and "service-fee" in MONTHLY
    assert due(date(2026, 12, 1)) == [("daily", "2026-12-01")]  # a Tuesday
    assert due(date(2026, 11, 30)) == [("daily", "2026-11-30"), ("weekly-callbacks", "2026-W48")]
    assert due(date(2026, 12, 3)) == [("daily", "2026-12-03")] + [(n, "2026-11") for n in MONTHLY]
    assert due(date(2026, 12, 6)) == []  # Sunday: the desk is closed
    # A Sunday 3rd: the month's reports are due on Monday the 4th, with the callback week.
    assert due(date(2026, 5, 3)) == []
    assert due(date(2026, 5, 4)) == [("daily", "2026-05-04"), ("weekly-callbacks", "2026-W18")] + [
        (n, "2026-04") for n in MONTHLY
    ]
    assert due(date(2026, 5, 5)) == [("daily", "2026-05-05")]
    january = {d["name"]: d["url"] for d in due_on(date(2027, 1, 4))}
    assert january["service-fee"] == "/reports/service-fee?month=2026-12"
    assert january["weekly-callbacks"] == "/reports/weekly-callbacks?week=2026-W53"


def test_every_report_is_linked() -> None:
    links = report_links(date(2026, 12, 3))
    assert [link["name"] for link in links] == list(catalog.MODULES)
    assert {link["url"] for link in links} >= {
        "/reports/service-fee?month=2026-11",
        "/reports/daily?day=2026-12-03",
    }


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_the_clerks_dashboard_links_todays_reports_and_the_manager_sees_uninvoiced_months(
    web, team: Archive
) -> None:
    # The test clock: Tuesday 2026-11-03, so October's reports are due.
    file_claim(team, "WC-0001", business_date="2026-10-20")
    sign_and_scan_claim(team, "WC-0001")
    commands.submit_claim(team, "warranty_claim", "WC-0001", "FVC-1", "admin")
    web.login("admin", PASSWORD)
    page = web.get("/").text
    card = page.split('data-section="due_reports"')[1].split("</section>")[0]
    links = re.findall(r'href="([^"]+)"', card)
    assert links == [d["url"] for d in due_on(date(2026, 11, 3))]
    assert "/reports/service-fee?month=2026-10" in links
    for link in links:
        assert web.get(link).status_code == 200, link
    every = page.split('data-section="reports"')[1].split("</section>")[0]
    assert len(re.findall(r'href="/reports/', every)) == len(catalog.MODULES)
    assert 'data-section="uninvoiced"' not in page  # the clerk is not the manager

    commands.set_password(team, "sun", PASSWORD, "admin")
    web.login("sun", PASSWORD)
    manager = web.get("/").text
    assert 'data-section="due_reports"' not in manager
    card = manager.split('data-section="uninvoiced"')[1].split("</section>")[0]
    assert "/reports/service-fee?month=2026-10" in card and "230.00" in card
    commands.request_invoice(team, "2026-10", "230", "sun")
    commands.receive_invoice(team, "2026-10", "No-7", "230", "sun")
    assert "都已收到" in web.get("/").text.split('data-section="uninvoiced"')[1]


def test_the_clerks_worklist_on_the_command_line_names_todays_reports(
    team: Archive, store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_HOME", str(store_settings.home))
    if store_settings.database_url:
        monkeypatch.setenv("ARCHIVE_DATABASE_URL", store_settings.database_url)
    shown = CliRunner().invoke(cli, ["todo", "--staff", "admin"])
    assert shown.exit_code == 0, shown.output
    today = re.search(r"待办（(\d{4}-\d{2}-\d{2})）", shown.output)
    assert today is not None
    for report in due_on(date.fromisoformat(today.group(1))):
        assert f"今天应交：{report['title']}" in shown.output
        assert f"archive report {report['name']} --" in shown.output
