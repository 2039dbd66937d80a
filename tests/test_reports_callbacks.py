"""The callback reports (weekly callbacks, satisfaction, complaints): every figure checked against
a count made from the event log alone (tests/report_log.py) on two demo months, and the
callbacks projection following amendments and voids on both stores."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from archive import commands
from archive.bootstrap import Archive, ReadModels, open_archive
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.reports import complaints, satisfaction, weekly_callbacks
from archive.reports.model import Period, Report, ReportSource
from tests import report_log
from tests.support import work_order

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 2)
CLOCK = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Beijing 10:00 on the 2nd of December
NOVEMBER = Period("month", date(2026, 11, 1), date(2026, 12, 1), "2026-11")
OCTOBER = Period("month", date(2026, 10, 1), date(2026, 11, 1), "2026-10")
WEEK_47 = Period("week", date(2026, 11, 16), date(2026, 11, 23), "2026-W47")
YEAR = Period("year", date(2026, 1, 1), date(2027, 1, 1), "2026")
ITEMS = [
    "score_reception",
    "score_completion",
    "score_settlement",
    "score_price",
    "score_repair",
    "score_paint",
    "score_cleaning",
    "score_overall",
]
DONE = {"reached", "refused", "wrong_number"}  # a call that answers the follow-up
FOLLOW_UPS = {"work_order": ("business_date", 3), "warranty_registration": ("delivery_date", 7)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, ReadModels]]:
    home = tmp_path_factory.mktemp("callbacks") / "home"
    archive = open_archive(Settings(home=home), clock=lambda: CLOCK)
    load(archive, generate(DemoSpec(month="2026-11", months=2, work_orders=50)))
    with archive.read_models() as models:
        models.runner.catch_up()
        yield archive, models
    archive.close()


@pytest.fixture(scope="module")
def log(demo) -> dict[str, list[Any]]:
    """Every document of the kinds these reports read, voided ones too, from the log."""
    archive, _ = demo
    kinds = ("callback", "quick_handling", "work_order", "warranty_registration")
    found: dict[str, list[Any]] = {k: [] for k in kinds}
    for doc in report_log.documents(archive, live=False):
        if doc.kind in found:
            found[doc.kind].append(doc)
    return found


def build(demo, module: Any, period: Period) -> Report:
    archive, models = demo
    report: Report = module.build(ReportSource(archive, models), period)
    return report


def figures(report: Report) -> dict[str, Any]:
    return {f.key: f.value for f in report.figures}


def table(report: Report, key: str) -> Any:
    return next(t for t in report.tables if t.key == key)


def avg(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / whole).quantize(Decimal("0.001"), ROUND_HALF_UP)


def live(docs: list[Any]) -> list[Any]:
    return [d for d in docs if d.voided is None]


def in_period(docs: list[Any], period: Period) -> list[Any]:
    return [d for d in live(docs) if d.fields["business_date"] in period]


def service_answers(reached: list[Any]) -> list[int]:
    """Every answer to the seven service items: 各项平均 leaves out 总体满意度, its own figure."""
    return [c.fields[i] for c in reached for i in ITEMS if i != "score_overall" and i in c.fields]


def person_label(demo, log, callback: Any) -> str:
    """Whom the callback is about, as the satisfaction report names him."""
    archive, _ = demo
    names = {u: s.name for u, s in archive.staff.refresh().items()}
    fields = callback.fields
    if fields.get("registration_no"):
        reg = next(d for d in log["warranty_registration"] if d.number == fields["registration_no"])
        return f"{names[reg.fields['sales_consultant']]}（销售顾问）"
    order = next((d for d in log["work_order"] if d.number == fields.get("work_order_no")), None)
    if order is None or not order.fields.get("service_advisor"):
        return "未关联顾问"
    return names[order.fields["service_advisor"]]


def test_the_demo_gives_every_report_something_to_show(log) -> None:
    callbacks = live(log["callback"])
    reached = [c for c in callbacks if c.fields["outcome"] == "reached"]
    assert len(reached) >= 50 and all("score_overall" in c.fields for c in reached)
    assert {c.fields["outcome"] for c in callbacks} >= {"reached", "no_answer", "refused"}
    assert any(c.fields.get("problem") for c in callbacks)
    forms = live(log["quick_handling"])
    assert {f.fields["source"] for f in forms} == {"callback", "complaint"}
    complaint_states = {
        (f.fields.get("closed_at") is not None, "service_manager" in f.signed_roles())
        for f in forms
        if f.fields["source"] == "complaint"
    }
    assert complaint_states == {(False, False), (True, False), (True, True)}


@pytest.mark.parametrize("period", [NOVEMBER, OCTOBER, YEAR], ids=lambda p: p.label)
def test_satisfaction_counts_as_the_log_does(demo, log, period: Period) -> None:
    report = build(demo, satisfaction, period)
    callbacks = in_period(log["callback"], period)
    reached = [c for c in callbacks if c.fields["outcome"] == "reached"]
    got = figures(report)
    assert got["made"] == len(callbacks) and got["reached"] == len(reached)
    assert got["reached_rate"] == rate(len(reached), len(callbacks))
    assert got["overall"] == avg([c.fields["score_overall"] for c in reached])
    assert got["service_items"] == avg(service_answers(reached))
    explained = [c.fields["advisor_explained"] for c in reached if "advisor_explained" in c.fields]
    assert got["explained_rate"] == rate(sum(explained), len(explained))

    items = {r["item"]: r for r in table(report, "items").rows}
    assert [r["answered"] for r in items.values()][:-1] == [
        sum(i in c.fields for c in reached) for i in ITEMS
    ]
    repair = [c.fields["score_repair"] for c in reached if "score_repair" in c.fields]
    assert items["维修质量"]["average"] == avg(repair)
    assert items["钣喷质量"]["answered"] < len(reached)  # only accident repairs are painted

    groups: dict[str, list[Any]] = defaultdict(list)
    for c in callbacks:
        groups[person_label(demo, log, c)].append(c)
    by_person = {r["person"]: r for r in table(report, "by_advisor").rows}
    assert set(by_person) == set(groups)
    for label, group in groups.items():
        row, answered = by_person[label], [c for c in group if c.fields["outcome"] == "reached"]
        assert (row["made"], row["reached"]) == (len(group), len(answered)), label
        for item in ITEMS:
            assert row[item] == avg([c.fields[item] for c in answered if item in c.fields])
        assert row["service_items"] == avg(service_answers(answered)), label
    total = table(report, "by_advisor").total
    assert total["made"] == len(callbacks) and total["score_overall"] == got["overall"]

    def listed(c: Any) -> bool:  # a year lists the words that need attention
        if period.kind != "year":
            return True
        fields = c.fields
        return (
            bool(fields.get("problem"))
            or fields["outcome"] != "reached"
            or (fields.get("score_overall", 5) <= 3)
        )

    words = table(report, "words").rows
    assert [w["number"] for w in words] == [
        c.number
        for c in sorted(callbacks, key=lambda c: (c.fields["business_date"], c.number))
        if c.fields.get("customer_words") and listed(c)
    ]
    assert 0 < len(words) < len(callbacks)


def test_the_trend_is_each_month_of_the_twelve(demo, log) -> None:
    chart = build(demo, satisfaction, NOVEMBER).charts[0]
    assert chart.categories[0] == "2025-12" and chart.categories[-1] == "2026-11"
    overall = dict(zip(chart.categories, chart.series[0].values, strict=True))
    service = dict(zip(chart.categories, chart.series[1].values, strict=True))
    for month, period in (("2026-10", OCTOBER), ("2026-11", NOVEMBER)):
        reached = [
            c for c in in_period(log["callback"], period) if c.fields["outcome"] == "reached"
        ]
        assert overall[month] == float(avg([c.fields["score_overall"] for c in reached]))
        assert service[month] == float(avg(service_answers(reached)))
    assert overall["2026-09"] is None  # no callbacks before the demo's first month
    assert build(demo, satisfaction, YEAR).charts[0].categories[-1] == "2026-12"


def due_follow_ups(log, period: Period) -> dict[str, dict[str, Any]]:
    """Paper number -> its due date and the first day a call answered it, from the log."""
    found = {}
    for kind, (field, days) in FOLLOW_UPS.items():
        link = "work_order_no" if kind == "work_order" else "registration_no"
        for paper in live(log[kind]):
            due = paper.fields[field] + timedelta(days=days)
            if due not in period:
                continue
            calls = [c for c in live(log["callback"]) if c.fields.get(link) == paper.number]
            done = [c.fields["business_date"] for c in calls if c.fields["outcome"] in DONE]
            found[paper.number] = {"due": due, "made": bool(calls), "done": min(done, default=None)}
    return found


@pytest.mark.parametrize("period", [WEEK_47, NOVEMBER], ids=lambda p: p.label)
def test_weekly_callbacks_count_as_the_log_does(demo, log, period: Period) -> None:
    report = build(demo, weekly_callbacks, period)
    got = figures(report)
    due = due_follow_ups(log, period)
    on_time = [n for n, d in due.items() if d["done"] is not None and d["done"] <= d["due"]]
    late = {
        n
        for n, d in due.items()
        if n not in on_time and (d["done"] is not None or d["due"] < TODAY)
    }
    assert got["due"] == len(due) > 0
    assert got["due_made"] == sum(d["made"] for d in due.values())
    assert got["due_on_time"] == len(on_time) and got["due_overdue"] == len(late) > 0
    assert {r["number"] for r in table(report, "overdue").rows} == late

    callbacks = in_period(log["callback"], period)
    outcomes = Counter(c.fields["outcome"] for c in callbacks)
    assert got["made"] == len(callbacks) and got["reached"] == outcomes["reached"]
    assert got["not_reached"] == len(callbacks) - outcomes["reached"]
    by_label = {r["outcome"]: r["count"] for r in table(report, "outcomes").rows}
    labels = {"reached": "已接通", "no_answer": "无人接听", "wrong_number": "号码错误"}
    assert all(by_label[label] == outcomes[code] for code, label in labels.items())
    reached = [c for c in callbacks if c.fields["outcome"] == "reached"]
    scores = {r["item"]: r["average"] for r in table(report, "scores").rows}
    assert scores["总体满意度"] == avg([c.fields["score_overall"] for c in reached])

    problems = [c for c in callbacks if c.fields.get("problem")]
    assert got["problems"] == len(problems)
    rows = {r["number"]: r for r in table(report, "problems").rows}
    assert set(rows) == {c.number for c in problems}
    for c in problems:
        assert rows[c.number]["state"] == expected_problem_state(log, c)[0]


def callback_forms(log, callback: Any) -> list[Any]:
    return [
        f
        for f in live(log["quick_handling"])
        if (f.fields["source"] == "callback" and f.fields.get("source_no") == callback.number)
        or f.number == callback.fields.get("quick_handling_no")
    ]


def form_state(form: Any) -> str:
    if form.fields.get("closed_at") is None:
        return "处理中"
    return "已解决" if "service_manager" in form.signed_roles() else "已关闭，待服务经理签字"


ORDER = ["未建快速处理表", "处理中", "已关闭，待服务经理签字", "已解决"]


def expected_problem_state(log, callback: Any) -> tuple[str, Any]:
    forms = callback_forms(log, callback)
    if not forms:
        return "未建快速处理表", None
    lead = max(forms, key=lambda f: (ORDER.index(form_state(f)), f.fields["business_date"]))
    return form_state(lead), lead


@pytest.mark.parametrize("period", [NOVEMBER, OCTOBER, YEAR], ids=lambda p: p.label)
def test_complaints_count_as_the_log_does(demo, log, period: Period) -> None:
    report = build(demo, complaints, period)
    expected = {}
    for form in in_period(log["quick_handling"], period):
        if form.fields["source"] == "complaint":
            expected[form.number] = (form_state(form), form, form.fields["business_date"])
    for c in in_period(log["callback"], period):
        if c.fields.get("problem"):
            state, lead = expected_problem_state(log, c)
            number = " / ".join([c.number, *(f.number for f in callback_forms(log, c))])
            expected[number] = (state, lead, c.fields["business_date"])
    rows = table(report, "problems").rows
    assert {r["number"] for r in rows} == set(expected)
    assert [ORDER.index(r["state"]) for r in rows] == sorted(ORDER.index(r["state"]) for r in rows)
    for row in rows:
        state, form, opened = expected[row["number"]]
        assert row["state"] == state
        closed = form.fields.get("closed_at") if form else None
        days = (closed.astimezone(TZ).date() - opened).days if closed else None
        assert row["days_to_close"] == days, row["number"]
    got = figures(report)
    unresolved = sum(s != "已解决" for s, _, _ in expected.values())
    assert (got["total"], got["unresolved"]) == (len(expected), unresolved)
    # The average covers exactly the rows counted 已解决 (closed and signed), not one closed and
    # still waiting for the manager's signature.
    days = [r["days_to_close"] for r in rows if r["state"] == "已解决"]
    assert len(days) == got["resolved"]
    mean = (
        (Decimal(sum(days)) / len(days)).quantize(Decimal("0.1"), ROUND_HALF_UP) if days else None
    )
    assert got["average_days"] == (None if mean is None else float(mean))
    departments = Counter(r["department"] for r in rows)
    assert {r["department"]: r["total"] for r in table(report, "by_department").rows} == dict(
        departments
    )
    states = Counter(s for s, _, _ in expected.values())
    assert {r["state"]: r["count"] for r in table(report, "by_state").rows} == {
        s: states[s] for s in ORDER
    }
    chart = report.charts[0]
    totals = [a + b for a, b in zip(*(s.values for s in chart.series), strict=True)]
    assert dict(zip(chart.categories, totals, strict=True)) == dict(departments)


def test_a_rebuilt_projection_gives_the_same_reports(demo) -> None:
    before = [build(demo, m, NOVEMBER) for m in (weekly_callbacks, satisfaction, complaints)]
    archive, models = demo
    # Batches of another size: other callbacks' amendments fall in other batches than before.
    models.callbacks.rebuild(archive.log(), batch_size=37)
    kept = models.callbacks.rows(
        "SELECT business_date, person, item, SUM(total) AS total, SUM(n) AS n FROM cb_score_days"
        " GROUP BY 1, 2, 3 HAVING SUM(n) > 0 ORDER BY 1, 2, 3"
    )
    counted = models.callbacks.rows(
        "SELECT business_date, coalesce(person, '') AS person, item, SUM(score) AS total,"
        " COUNT(*) AS n FROM cb_scores WHERE counts = 1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    assert kept == counted
    after = [build(demo, m, NOVEMBER) for m in (weekly_callbacks, satisfaction, complaints)]
    for old, new in zip(before, after, strict=True):
        assert (old.figures, old.charts) == (new.figures, new.charts)
        assert [t.rows for t in old.tables] == [t.rows for t in new.tables]


def test_an_amended_advisor_and_a_voided_callback(team: Archive) -> None:
    """The advisor is the order's as amended; a voided callback counts nowhere; the three
    reports' SQL on both stores (the read models in PostgreSQL with ARCHIVE_DATABASE_URL)."""
    commands.register_staff(
        team, username="liu", name="刘洋", roles=["service_advisor"], actor="admin"
    )
    order = commands.file_document(team, "work_order", work_order("WO-0001"), "admin")
    calls = []
    for number, score in (("HF-1", 5), ("HF-2", 2)):
        call = {
            "number": number,
            "business_date": "2026-11-04",
            "work_order_no": "WO-0001",
            "customer_phone": "13800138000",
            "called_at": "2026-11-04 10:30",
            "outcome": "reached",
            "score_overall": score,
            "advisor_explained": True,
            "problem": number == "HF-1",
        }
        calls.append(commands.file_document(team, "callback", call, "admin"))
    commands.amend_document(
        team,
        "work_order",
        "WO-0001",
        {"service_advisor": "刘洋"},
        "顾问填错",
        order.version,
        "admin",
    )
    commands.void_document(team, "callback", "HF-2", "重复录入", "admin")
    complaint = {
        "number": "KS-1",
        "business_date": "2026-11-05",
        "source": "complaint",
        "work_order_no": "WO-0001",
        "department_at_fault": "workshop",
        "description": "取车后发现座椅有油污",
        "action": "致歉，约客户回店精洗",
    }
    commands.file_document(team, "quick_handling", complaint, "admin")
    with team.read_models() as models:
        models.runner.catch_up()
        source = ReportSource(team, models)
        report = satisfaction.build(source, NOVEMBER)
        weekly = figures(weekly_callbacks.build(source, NOVEMBER))
        problems = complaints.build(source, NOVEMBER)
    rows = table(report, "by_advisor").rows
    assert [(r["person"], r["made"], r["score_overall"]) for r in rows] == [
        ("刘洋", 1, Decimal("5.00"))
    ]
    assert figures(report)["reached_rate"] == Decimal("1.000")
    assert (weekly["due"], weekly["due_on_time"], weekly["problems"]) == (1, 1, 1)
    assert [(r["number"], r["state"]) for r in table(problems, "problems").rows] == [
        ("HF-1", "未建快速处理表"),
        ("KS-1", "处理中"),
    ]
