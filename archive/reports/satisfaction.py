"""月客户满意度回访表: the average of every questionnaire item, by service advisor and overall,
the reached rate, the customers' own words and a 12-month trend.

Computed with a few grouped SQL queries over the callbacks projection (``cb_callbacks``,
``cb_scores``): counts by person and outcome, sums and counts of scores by person and item.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from archive.queries.documents import staff_names
from archive.reports.callback_facts import (
    EXPLAINED,
    EXPLAINED_LABEL,
    FROM_SCORE_DAYS,
    OUTCOME_LABELS,
    OVERALL,
    WHO,
    Person,
    Tally,
    callbacks_model,
    from_callbacks,
    period_bounds,
    person_of,
    score_items,
)
from archive.reports.model import (
    Chart,
    Column,
    Figure,
    Period,
    Report,
    ReportSource,
    ReportSpec,
    Series,
    Table,
)

TREND_MONTHS = 12
UNHAPPY = 3  # an overall score at most this: the customer was not satisfied

NOTES = [
    "平均分只计“已接通”的回访中回答了该项的：未接通、拒绝回访，以及未回答该项（如非钣喷维修的"
    "钣喷质量）的回访不计入该项的平均分。",
    f"“{EXPLAINED_LABEL}”按“是”的比例计算，分母为已接通且回答了该项的回访。",
    "接通率 = 已接通的回访 ÷ 本期全部回访（同一客户多次拨打各算一次）；作废的回访记录不计。",
    "“各项平均”为本期已接通回访中"
    + "、".join(label for code, label in score_items() if code != OVERALL)
    + f"这 {len(score_items()) - 1} 个服务评分项（1–5 分）所有回答的平均，每个回答计一次；"
    "不含总体满意度（总体满意度单列）。趋势图中的“各项平均”同此。",
    f"客户原话：按月列出全部；按年只列需关注的（客户有问题、未接通或拒绝回访、总体满意度 {UNHAPPY}"
    " 分及以下）。",
    "顾问：维修后回访为回访所指委托书上的服务顾问（委托书修改后按修改后的）；交车回访为保修登记表"
    "上的销售顾问，标“（销售顾问）”；未关联委托书或保修登记表的回访列为“未关联顾问”。",
]


def build(source: ReportSource, period: Period) -> Report:
    model = callbacks_model(source)
    names = staff_names(source.archive)
    items = score_items()
    overall = Tally()
    people: dict[Person, Tally] = defaultdict(Tally)
    for row in model.rows(
        f"SELECT {WHO}, c.outcome, c.{EXPLAINED} AS explained, COUNT(*) AS n"
        + from_callbacks()
        + " GROUP BY 1, 2, 3, 4",
        period_bounds(period),
    ):
        for tally in (overall, people[person_of(row)]):
            tally.add_callbacks(row["outcome"], row["explained"], row["n"])
    for row in model.rows(
        "SELECT s.person AS who, s.person_role AS who_role, s.item, SUM(s.total) AS total,"
        " SUM(s.n) AS n" + FROM_SCORE_DAYS + " GROUP BY 1, 2, 3 HAVING SUM(s.n) > 0",
        period_bounds(period),
    ):
        for tally in (overall, people[person_of(row)]):
            tally.add_scores(row["item"], row["total"], row["n"])

    by_person = [
        _person_row(person.label(names), tally, items)
        for person, tally in sorted(people.items(), key=lambda p: _order(p[0], names))
    ]
    report = source.report(
        SPEC,
        period,
        figures=[
            Figure("made", "回访次数", overall.made),
            Figure("reached", "已接通", overall.reached),
            Figure("reached_rate", "接通率", overall.reached_rate(), "percent"),
            Figure("overall", "总体满意度", overall.item_average(OVERALL), "score"),
            Figure("service_items", "各项平均", overall.service_items_average(), "score"),
            Figure("explained_rate", "事先报价并逐项解释", overall.explained_rate(), "percent"),
        ],
        charts=[_trend(source, period, items)],
        tables=[
            _items_table(overall, items),
            Table(
                "by_advisor",
                "按服务顾问",
                _person_columns(items),
                by_person,
                total=_person_row("合计", overall, items),
            ),
            _words_table(source, period, names),
        ],
        notes=list(NOTES),
    )
    return report


def _items_table(overall: Tally, items: list[tuple[str, str]]) -> Table:
    rows: list[dict[str, Any]] = [
        {
            "item": label,
            "answered": overall.counts.get(code, 0),
            "average": overall.item_average(code),
            "rate": None,
        }
        for code, label in items
    ]
    rows.append(
        {
            "item": EXPLAINED_LABEL,
            "answered": overall.explained_answered,
            "average": None,
            "rate": overall.explained_rate(),
        }
    )
    return Table(
        "items",
        "各项平均（全部）",
        [
            Column("item", "评分项目"),
            Column("answered", "回答数", "int"),
            Column("average", "平均分", "score"),
            Column("rate", "“是”的比例", "percent"),
        ],
        rows,
    )


def _person_columns(items: list[tuple[str, str]]) -> list[Column]:
    return [
        Column("person", "顾问"),
        Column("made", "回访次数", "int"),
        Column("reached", "已接通", "int"),
        Column("reached_rate", "接通率", "percent"),
        *(Column(code, label, "score") for code, label in items),
        Column(EXPLAINED, "事先报价并逐项解释", "percent"),
        Column("service_items", "各项平均", "score"),
    ]


def _person_row(label: str, tally: Tally, items: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "person": label,
        "made": tally.made,
        "reached": tally.reached,
        "reached_rate": tally.reached_rate(),
        **{code: tally.item_average(code) for code, _ in items},
        EXPLAINED: tally.explained_rate(),
        "service_items": tally.service_items_average(),
    }


# A year's words are thousands of calls: the year's report lists those that need attention.
NEEDS_ATTENTION = (
    " AND (c.problem = 1 OR c.outcome <> 'reached' OR EXISTS (SELECT 1 FROM cb_scores s"
    f" WHERE s.doc_id = c.doc_id AND s.item = '{OVERALL}' AND s.score <= {UNHAPPY}))"
)


def _words_table(source: ReportSource, period: Period, names: dict[str, str]) -> Table:
    whole_year = period.kind == "year"
    rows = callbacks_model(source).rows(
        f"SELECT c.business_date, c.number, c.customer_name, c.customer_words, c.outcome, {WHO}"
        + from_callbacks()
        + " AND c.customer_words IS NOT NULL AND c.customer_words <> ''"
        + (NEEDS_ATTENTION if whole_year else "")
        + " ORDER BY c.business_date, c.number",
        period_bounds(period),
    )
    return Table(
        "words",
        "客户原话（需关注的）" if whole_year else "客户原话",
        [
            Column("business_date", "回访日期", "date"),
            Column("number", "回访编号"),
            Column("customer", "客户"),
            Column("person", "顾问"),
            Column("outcome", "回访结果"),
            Column("words", "客户原话"),
        ],
        [
            {
                "business_date": date.fromisoformat(r["business_date"]),
                "number": r["number"],
                "customer": r["customer_name"],
                "person": person_of(r).label(names),
                "outcome": OUTCOME_LABELS.get(r["outcome"], r["outcome"]),
                "words": r["customer_words"],
            }
            for r in rows
        ],
    )


def trend_months(period: Period) -> list[str]:
    """The 12 months ('YYYY-MM') ending with the period's last month."""
    year, month = period.last_day.year, period.last_day.month
    months = []
    for _ in range(TREND_MONTHS):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _trend(source: ReportSource, period: Period, items: list[tuple[str, str]]) -> Chart:
    months = trend_months(period)
    first = date.fromisoformat(months[0] + "-01")
    tallies: dict[str, Tally] = defaultdict(Tally)
    for row in callbacks_model(source).rows(
        "SELECT substr(s.business_date, 1, 7) AS month, s.item, SUM(s.total) AS total,"
        " SUM(s.n) AS n" + FROM_SCORE_DAYS + " GROUP BY 1, 2 HAVING SUM(s.n) > 0",
        (first.isoformat(), period.end.isoformat()),
    ):
        tallies[row["month"]].add_scores(row["item"], row["total"], row["n"])

    def values(pick: Any) -> list[float | None]:
        found = [pick(tallies[m]) if m in tallies else None for m in months]
        return [None if v is None else float(v) for v in found]

    return Chart(
        "trend",
        f"近 {TREND_MONTHS} 个月满意度趋势",
        "line",
        months,
        [
            Series("总体满意度", values(lambda t: t.item_average(OVERALL))),
            Series("各项平均", values(lambda t: t.service_items_average())),
        ],
        unit="分",
    )


SPEC = ReportSpec(
    name="satisfaction",
    title="月客户满意度回访表",
    periods=("month", "year"),
    build=build,
    due="month_3rd",
    summary="每月 3 日：各评分项平均分（按服务顾问和全部）、接通率、客户原话、12 个月趋势",
)


def _order(person: Person, names: dict[str, str]) -> tuple[int, str]:
    """Service advisors first, then sales consultants (delivery callbacks), then no one."""
    rank = 2 if person.username is None else int(person.role != "service_advisor")
    return rank, person.label(names)
