"""The customer reports (churn, maintenance, greetings): every figure and list checked against
counts made from the event log alone (tests/report_log.py) on a three-month demo (2026-09 to 11).

Short settings (lapsed after 1 month, maintenance every month, greetings to the last 3 months'
customers) so three months of demo hold every case; the report's rules are recomputed here
independently, from the documents' final states and the contacts' aggregates.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from archive.bootstrap import Archive, ReadModels, open_archive
from archive.config import Settings
from archive.contacts.rules import due_of
from archive.contacts.settings import ReportSettings, report_settings
from archive.demo import DemoSpec, generate, load
from archive.reports import churn, greetings, maintenance
from archive.reports.model import Report, ReportSource
from archive.reports.periods import parse_period
from events.contacts import CustomerContact
from tests.report_log import aggregates, documents
from tests.support import FakeClock

SHORT = {"churn_months": 1, "maintenance_months": 1, "greeting_months": 3}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, ReadModels]]:
    home = tmp_path_factory.mktemp("customers") / "home"
    settings = Settings(home=home, reports=dict(SHORT))
    archive = open_archive(settings, clock=FakeClock(datetime(2026, 12, 20, 2, tzinfo=UTC)))
    load(archive, generate(DemoSpec(month="2026-11", months=3, work_orders=30)))
    with archive.read_models() as models:
        models.runner.catch_up()
        yield archive, models
    archive.close()


def built(demo: tuple[Archive, ReadModels], module: Any, period: str) -> Report:
    archive, models = demo
    kind = "year" if len(period) == 4 else "month"
    report: Report = module.build(ReportSource(archive, models), parse_period(kind, period))
    return report


def figures(report: Report) -> dict[str, Any]:
    return {f.key: f.value for f in report.figures}


def table(report: Report, key: str) -> list[dict[str, Any]]:
    return next(t.rows for t in report.tables if t.key == key)


def months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def visits(archive: Archive) -> list[dict[str, Any]]:
    """Live work orders' fields, oldest first, as the log says."""
    found = [dict(doc.fields) for doc in documents(archive, "work_order")]
    for fields in found:
        fields["day"] = date.fromisoformat(str(fields["business_date"]))
    return sorted(found, key=lambda f: f["day"])


def contacts(archive: Archive, purpose: str) -> dict[tuple[str, str], str]:
    return {
        (c.subject, c.occasion): str(c.latest["outcome"])
        for c in aggregates(archive, CustomerContact)
        if c.purpose == purpose and c.latest
    }


# -- churn ---------------------------------------------------------------------------------


def lapsed_at(archive: Archive, end: date) -> tuple[set[str], set[str]]:
    cut, start = months_back(end, 1), months_back(end, 2)
    by_customer: dict[str, list[date]] = {}
    for v in visits(archive):
        by_customer.setdefault(str(v["customer_phone"]), []).append(v["day"])
    active = {k for k, days in by_customer.items() if any(start <= d < cut for d in days)}
    gone = {k for k in active if not any(cut <= d < end for d in by_customer[k])}
    return active, gone


def test_churn_counts_lapsed_customers_as_the_log_says(demo) -> None:
    archive, _ = demo
    report = built(demo, churn, "2026-10")
    active, gone = lapsed_at(archive, date(2026, 11, 1))
    assert gone, "the demo must have lapsed customers"
    shown = figures(report)
    assert (shown["active"], shown["lapsed"]) == (len(active), len(gone))
    assert shown["rate"] == pytest.approx(len(gone) / len(active))
    assert {r["phone"] for r in table(report, "lapsed")} == gone
    trend = {r["month"]: (r["active"], r["lapsed"]) for r in table(report, "trend")}
    assert len(trend) == 12
    september = lapsed_at(archive, date(2026, 10, 1))
    assert trend["2026-09"] == (len(september[0]), len(september[1]))
    assert trend["2026-08"] == (0, 0)
    advisors = table(report, "advisors")
    assert sum(r["lapsed"] for r in advisors) == len(gone)
    assert sum(r["active"] for r in advisors) == len(active)


def test_churn_reasons_are_the_callbacks_of_the_period(demo) -> None:
    archive, _ = demo
    report = built(demo, churn, "2026-11")
    asked = Counter(
        doc.fields["churn_reason"]
        for doc in documents(archive, "callback")
        if doc.fields.get("churn_reason") and str(doc.fields["business_date"]).startswith("2026-11")
    )
    assert sum(asked.values()) == figures(report)["reasons"] > 0
    labels = dict(churn.CHURN_REASONS)
    assert {r["reason"]: r["count"] for r in table(report, "reasons")} == {
        labels[code]: n for code, n in asked.items()
    }


def test_churn_for_a_year_ends_with_the_year(demo) -> None:
    archive, _ = demo
    report = built(demo, churn, "2026")
    assert next(r["month"] for r in table(report, "trend")) == "2026-01"
    active, gone = lapsed_at(archive, date(2027, 1, 1))
    assert (figures(report)["active"], figures(report)["lapsed"]) == (len(active), len(gone))


# -- maintenance -----------------------------------------------------------------------------


def due_in(archive: Archive, start: date, end: date) -> dict[str, date]:
    """VIN -> due date, from the visits before ``start`` (1 month or 5,000 km)."""
    cars: dict[str, list[tuple[date, int | None]]] = {}
    for v in visits(archive):
        if v.get("vin") and v["day"] < start:
            km = v.get("mileage_km")
            cars.setdefault(str(v["vin"]), []).append((v["day"], int(km) if km else None))
    found = {}
    for vin, seen in cars.items():
        last_day, last_km = seen[-1]
        due = months_back(last_day, -1)
        with_km = [(d, k) for d, k in seen if k is not None]
        if last_km is not None and len(with_km) >= 2:
            days = (with_km[-1][0] - with_km[0][0]).days
            grown = with_km[-1][1] - with_km[0][1]
            if days >= 30 and grown > 0:
                due = min(due, last_day + timedelta(days=-(-5000 * days // grown)))
        if start <= due < end:
            found[vin] = due
    return found


@pytest.mark.parametrize("month", ["2026-10", "2026-11"])
def test_maintenance_lists_the_cars_due_with_their_reminders(demo, month) -> None:
    archive, _ = demo
    report = built(demo, maintenance, month)
    period = parse_period("month", month)
    due = due_in(archive, period.start, period.end)
    assert due, "the demo must have cars due"
    rows = table(report, "due")
    assert {r["vin"]: r["due"] for r in rows} == due
    recorded = contacts(archive, "maintenance")
    outcomes = Counter(recorded.get((vin, day.isoformat())) for vin, day in due.items())
    shown = figures(report)
    assert shown["due"] == len(due)
    for code in ("called", "letter_sent", "booked", "declined"):
        assert shown[code] == outcomes[code]
    assert shown["not_contacted"] == outcomes[None]
    assert sum(outcomes[c] for c in ("called", "letter_sent", "booked", "declined")) > 0


def test_first_service_letters_are_the_months_vouchers(demo) -> None:
    archive, _ = demo
    report = built(demo, maintenance, "2026-10")
    vouchers = {
        doc.number
        for doc in documents(archive, "first_service_voucher")
        if str(doc.fields["business_date"]).startswith("2026-10")
    }
    assert vouchers
    assert {r["number"] for r in table(report, "letters")} == vouchers
    assert figures(report)["letters"] == len(vouchers)
    assert all(r["customer"] and r["plate"] for r in table(report, "letters"))


def test_invitation_letters_leave_out_the_booked_and_the_declined(demo) -> None:
    from archive.reports.letters import letters_headers, letters_model

    archive, _ = demo
    report = built(demo, maintenance, "2026-11")
    recorded = contacts(archive, "maintenance")
    rows = table(report, "due")
    answered = {
        r["vin"]
        for r in rows
        if recorded.get((r["vin"], r["due"].isoformat())) in ("booked", "declined")
    }
    assert answered, "the demo must have cars booked or declined"
    invited = {r["vin"] for r in letters_model(report)["invitations"]}
    assert invited == {r["vin"] for r in rows} - answered
    assert any("客户谢绝" in note and "不打印邀请信" in note for note in report.notes)
    disposition = letters_headers("2026-11")["Content-Disposition"]
    assert disposition == "attachment; filename*=UTF-8''letters-2026-11.pdf"


def test_a_car_due_by_mileage_before_its_date() -> None:
    # 3,000 km in 60 days: 50 km a day, 5,000 km after 100 days, before 6 months.
    visits_seen = [(date(2026, 1, 1), 10000), (date(2026, 3, 2), 13000)]
    due = due_of(visits_seen, ReportSettings())
    assert due is not None
    assert (due.day, due.by, due.km_per_day) == (date(2026, 6, 10), "里程", 50.0)
    # Two visits a week apart say nothing of a pace: by date only.
    close = due_of([(date(2026, 3, 1), 100), (date(2026, 3, 8), 900)], ReportSettings())
    assert close is not None and (close.day, close.by) == (date(2026, 9, 8), "时间")


# -- greetings -------------------------------------------------------------------------------


def test_greetings_list_the_recent_customers_before_each_holiday(demo) -> None:
    archive, _ = demo
    report = built(demo, greetings, "2026-09")
    recorded = contacts(archive, "greeting")
    expected_results: Counter[str | None] = Counter()
    total = 0
    for code, day in (("2026-midautumn", date(2026, 9, 25)), ("2026-national", date(2026, 10, 1))):
        since = months_back(day, 3)
        people = {str(v["customer_phone"]) for v in visits(archive) if since <= v["day"] < day}
        rows = table(report, f"greet-{code}")
        assert {r["phone"] for r in rows} == people
        total += len(people)
        expected_results.update(recorded.get((p, code)) for p in people)
    shown = figures(report)
    assert (shown["holidays"], shown["to_greet"]) == (2, total)
    for code in ("sms", "called", "no_answer", "declined"):
        assert shown[code] == expected_results[code]
    assert shown["not_greeted"] == expected_results[None]
    assert shown["sms"] > 0


def test_new_year_is_greeted_in_december(demo) -> None:
    report = built(demo, greetings, "2026-12")
    assert [t.key for t in report.tables] == ["greet-2027-newyear"]
    assert figures(report)["holidays"] == 1


def test_report_settings_come_from_settings_toml_then_the_environment(tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text(
        "[reports]\nchurn_months = 6\nmaintenance_km = 7500\n"
        '[reports.holidays]\n"2029-spring" = "2029-02-13"\n'
        '"2029-store" = {name = "店庆", date = "2029-05-18"}\n',
        encoding="utf-8",
    )
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_REPORTS_CHURN_MONTHS": "9"}
    read = report_settings(Settings.from_env(env))
    assert (read.churn_months, read.maintenance_km, read.maintenance_months) == (9, 7500, 6)
    assert [(h.code, h.name) for h in read.holidays] == [
        ("2029-spring", "春节"),
        ("2029-store", "店庆"),
    ]
    defaults = report_settings(Settings(home=home))
    assert defaults.holiday("2027-spring").day == date(2027, 2, 6)  # lunar, written as data
    assert defaults.holiday("2028-midautumn").day == date(2028, 10, 3)
    with pytest.raises(ValueError, match="churn_months"):
        report_settings(Settings(home=home, reports={"churn_months": "0"}))


def test_a_rebuilt_contacts_projection_gives_the_same_reports(demo) -> None:
    _, models = demo
    asked = [(churn, "2026-11"), (maintenance, "2026-11"), (greetings, "2026-09")]
    before = [figures(built(demo, module, month)) for module, month in asked]
    models.runner.rebuild("contacts")
    assert [figures(built(demo, module, month)) for module, month in asked] == before


def test_the_lists_that_look_ahead_open_on_the_month_to_come() -> None:
    """On Dec 3 the maintenance list (and its letters) and the greetings open on December
    (元旦's eve is Dec 31); the reports due on the 3rd still look back at November."""
    from archive.reports.run import ask

    on = date(2026, 12, 3)
    assert ask("maintenance", {}, on).period.label == "2026-12"
    assert ask("greetings", {}, on).period.label == "2026-12"
    assert ask("greetings", {}, date(2027, 1, 1)).period.label == "2027-02"  # 春节 2027-02-06
    assert ask("churn", {}, on).period.label == "2026-11"
    assert ask("satisfaction", {}, on).period.label == "2026-11"


def test_churn_on_a_young_archive_says_its_history_is_too_short(team: Archive) -> None:
    """An archive of one month and a 12-month churn period: no rate (not 0%), a note saying
    from when the figures are whole, no empty chart; the report still renders."""
    from archive import commands
    from tests.support import work_order

    commands.file_document(team, "work_order", work_order(business_date="2026-11-03"), "admin")
    with team.read_models() as models:
        models.runner.catch_up()
        report = churn.build(ReportSource(team, models), parse_period("month", "2026-11"))
    months = report_settings(team.settings).churn_months
    assert figures(report)["rate"] == "档案记录不足" and report.charts == []
    ready = months_back(date(2026, 11, 1), -2 * months)
    assert "从 2026年11月开始" in report.notes[0]
    assert f"截止日不早于 {ready.isoformat()}" in report.notes[0]
    from archive.reports.run import rendered

    for fmt in ("pdf", "xlsx"):
        assert rendered(report, team, fmt)
