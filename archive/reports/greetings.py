"""节日问候 (report 9): whom to greet before each holiday of the calendar, and how each
greeting went.

A holiday belongs to the month of its eve (元旦 2027-01-01 to December 2026's list, 国庆 to
September's): the list is made in the days before it. The customers to greet are those with a
visit (a live work order) in the ``greeting_months`` before the holiday.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from archive.contacts.rules import GREETING_RESULTS, RESULT_LABELS
from archive.contacts.settings import Holiday, default_holidays, report_settings
from archive.contacts.visits import add_months, staff_names
from archive.reports.model import Column, Figure, Period, Report, ReportSource, ReportSpec, Table
from archive.reports.periods import month_period
from events.contacts import GREETING

TITLE = "节日问候"
NOT_YET = "未问候"

COLUMNS = (
    Column("customer", "客户"),
    Column("phone", "电话"),
    Column("last_visit", "节前最近到店", "date"),
    Column("visits", "期间到店（次）", "int"),
    Column("advisor", "服务顾问"),
    Column("result", "问候结果"),
    Column("note", "备注"),
)


def holidays_of(source: ReportSource, period: Period) -> list[Holiday]:
    """The calendar's holidays whose eve falls in ``period``."""
    return [
        h
        for h in report_settings(source.archive.settings).holidays
        if h.day - timedelta(days=1) in period
    ]


def to_greet(source: ReportSource, holiday: Holiday) -> list[dict[str, Any]]:
    """The customers with a visit in the configured months before ``holiday``, with their
    name and advisor from the customers' summaries (one query: both are read models of the
    same store)."""
    months = report_settings(source.archive.settings).greeting_months
    rows = source.models.contacts.query(
        "SELECT g.customer_key AS customer_key, g.last_visit AS last_visit, g.visits AS visits,"
        " c.name AS name, c.service_advisor AS advisor FROM (SELECT customer_key,"
        " MAX(business_date) AS last_visit, COUNT(*) AS visits FROM contact_visits"
        " WHERE voided = 0 AND customer_key IS NOT NULL AND business_date >= ?"
        " AND business_date < ? GROUP BY customer_key) g"
        " LEFT JOIN customer_summaries c ON c.customer_key = g.customer_key"
        " ORDER BY g.customer_key",
        (add_months(holiday.day, -months).isoformat(), holiday.day.isoformat()),
    )
    return [dict(row) for row in rows]


def next_holidays_month(today: date) -> Period:
    """The month whose list is still to be worked: that of the next holiday's eve from today
    (on Dec 3, December, for 元旦). The built-in calendar: a default has no settings at hand."""
    eves = sorted(h.day - timedelta(days=1) for h in default_holidays())
    eve = next((e for e in eves if e >= today), today)
    return month_period(eve.year, eve.month)


def build(source: ReportSource, period: Period) -> Report:
    months = report_settings(source.archive.settings).greeting_months
    holidays = holidays_of(source, period)
    recorded = source.models.contacts.outcomes(GREETING, [h.code for h in holidays])
    names = staff_names(source)
    tables, results, total = [], Counter[Any](), 0
    for holiday in holidays:
        rows = []
        for found in to_greet(source, holiday):
            outcome = recorded.get((found["customer_key"], holiday.code))
            results[outcome["outcome"] if outcome else None] += 1
            rows.append(
                {
                    "customer": found["name"],
                    "phone": found["customer_key"],
                    "last_visit": found["last_visit"],
                    "visits": found["visits"],
                    "advisor": names.get(found["advisor"] or "", found["advisor"]),
                    "result": RESULT_LABELS.get(outcome["outcome"], outcome["outcome"])
                    if outcome
                    else NOT_YET,
                    "result_code": outcome["outcome"] if outcome else None,
                    "note": (outcome["note"] or None) if outcome else None,
                    "holiday": holiday.code,
                }
            )
        total += len(rows)
        tables.append(
            Table(
                f"greet-{holiday.code}",
                f"{holiday.label} 问候名单",
                COLUMNS,
                rows,
                empty="没有需要问候的客户",
            )
        )
    figures = [
        Figure("holidays", "本月节日（个）", len(holidays)),
        Figure("to_greet", "应问候（人次）", total),
        *(Figure(code, label, results[code]) for code, label in GREETING_RESULTS),
        Figure("not_greeted", NOT_YET, results[None]),
    ]
    return source.report(
        SPEC,
        period,
        figures=figures,
        tables=tables
        or [Table("none", "本月节日", COLUMNS, [], empty="本月没有节日（按节日前一天归月）")],
        notes=[
            "节日按其前一天所在的月份列出（元旦列在上一年 12 月，国庆列在 9 月）；"
            "春节、中秋节为农历节日，日期按设置中的节日表。",
            f"应问候：节日前 {months} 个月内到过店（有效的维修委托书）的客户，按手机号区分；"
            "服务顾问为客户最近一次到店的接待顾问。",
            "问候结果：登记的最近一次结果；未登记的显示“未问候”。",
            "不指定月份时，打开下一个节日（按其前一天）所在的月份：还要问候的那张名单。",
        ],
    )


SPEC = ReportSpec(
    name="greetings",
    title=TITLE,
    periods=("month",),
    build=build,
    summary="节日前应问候的客户名单和问候结果",
    page_extra="_contact_outcome.html",
    default=next_holidays_month,
)
