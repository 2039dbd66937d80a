"""周回访报告 (due Monday): the callbacks due in the week and whether each was made, the calls
made by outcome, the average scores of those that reached the customer, and the problems
customers raised with where each stands.

A callback is due within the days the registry's follow-up rules give (``FollowUpWithin``: 3
days after a repair, 7 after a delivery, as configured), counted as the worklists count them
(``archive.queries.worklists.follow_ups``): a call that reached the customer, was refused, or
found the number wrong answers it; a call nobody answered does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from archive.kinds.deadlines import FollowUpWithin, deadline_days
from archive.kinds.registry import KINDS
from archive.queries.documents import staff_names
from archive.queries.worklists import DONE_CALLBACK_OUTCOMES
from archive.reports.callback_facts import (
    EXPLAINED,
    EXPLAINED_LABEL,
    FROM_SCORE_DAYS,
    OUTCOME_LABELS,
    STATE_LABELS,
    Tally,
    callbacks_model,
    from_callbacks,
    leading_form,
    period_bounds,
    person_of,
    problem_state,
    problems_in,
    rate,
    score_items,
)
from archive.reports.model import Column, Figure, Period, Report, ReportSource, ReportSpec, Table

# The follow-up rule's date field -> the callbacks projection's column (cb_papers).
DATE_COLUMNS = {"business_date": "business_date", "delivery_date": "delivery_date"}
# The callback's field naming the paper -> its column (cb_callbacks).
LINK_COLUMNS = {"work_order_no": "work_order_no", "registration_no": "registration_no"}

NOTES = [
    "应回访：到期日（维修后、交车后按规定天数）落在本期内的委托书和保修登记表，作废的不计。",
    "已完成：已接通、客户拒绝回访或号码错误的回访都算完成；无人接听的要再打，不算完成。",
    "逾期：到期日已过而到期日当天及以前没有完成的回访（包括之后才补打的）。",
    "回访次数、接通和按结果统计：回访日期在本期内的全部回访记录（同一客户拨打多次各算一次）。",
    "平均分只计已接通且回答了该项的回访。",
    "客户问题：本期回访中客户有问题的；快速处理表关闭并经服务经理签字才算解决。",
]


def follow_up_rules() -> Iterator[tuple[str, FollowUpWithin]]:
    """(kind, rule) of every callback the registry says is owed."""
    for kind in KINDS.values():
        for rule in kind.deadlines:
            if isinstance(rule, FollowUpWithin) and rule.follow_up_kind == "callback":
                yield kind.code, rule


def due_follow_ups(source: ReportSource, period: Period, today: date) -> list[dict[str, Any]]:
    """Each paper whose callback falls due in the period, with when it was answered."""
    model = callbacks_model(source)
    due: list[dict[str, Any]] = []
    for kind, rule in follow_up_rules():
        days = deadline_days(rule, source.archive.settings.deadline_days)
        column = DATE_COLUMNS[rule.from_field]
        link = LINK_COLUMNS[rule.link_field]
        bounds = (
            kind,
            (period.start - timedelta(days=days)).isoformat(),
            (period.end - timedelta(days=days)).isoformat(),
        )
        where = f" WHERE p.kind = ? AND p.voided = 0 AND p.{column} >= ? AND p.{column} < ?"
        calls: dict[str, list[dict[str, Any]]] = {}
        for call in model.rows(
            f"SELECT p.number AS target, c.business_date, c.outcome FROM cb_papers p"
            f" JOIN cb_callbacks c ON c.{link} = p.number AND c.voided = 0" + where,
            bounds,
        ):
            calls.setdefault(call["target"], []).append(call)
        for paper in model.rows(
            f"SELECT p.number, p.{column} AS due_from, p.customer_name, p.customer_phone,"
            f" p.person FROM cb_papers p" + where + " ORDER BY p.number",
            bounds,
        ):
            made = calls.get(paper["number"], [])
            done = [c["business_date"] for c in made if c["outcome"] in DONE_CALLBACK_OUTCOMES]
            deadline = date.fromisoformat(paper["due_from"]) + timedelta(days=days)
            answered = date.fromisoformat(min(done)) if done else None
            due.append(
                {
                    **paper,
                    "label": rule.label,
                    "due": deadline,
                    "made": bool(made),
                    "answered": answered,
                    "state": _due_state(deadline, answered, today),
                }
            )
    return sorted(due, key=lambda d: (d["due"], d["number"]))


def _due_state(deadline: date, answered: date | None, today: date) -> str:
    if answered is not None:
        return "on_time" if answered <= deadline else "late"
    return "overdue" if deadline < today else "pending"


DUE_STATE_LABELS = {
    "on_time": "按期完成",
    "late": "逾期后补回访",
    "overdue": "逾期未回访",
    "pending": "未到期",
}


def build(source: ReportSource, period: Period) -> Report:
    archive = source.archive
    today = archive.now().astimezone(archive.settings.tz).date()
    names = staff_names(source.archive)
    due = due_follow_ups(source, period, today)
    overdue = [d for d in due if d["state"] in ("late", "overdue")]
    tally, by_outcome = _calls_made(source, period)
    problems = problems_in(source, period)
    return source.report(
        SPEC,
        period,
        figures=[
            Figure("due", "应回访", len(due)),
            Figure("due_made", "其中已拨打", sum(d["made"] for d in due)),
            Figure("due_on_time", "按期完成", sum(d["state"] == "on_time" for d in due)),
            Figure("due_overdue", "逾期", len(overdue)),
            Figure("made", "回访次数", tally.made),
            Figure("reached", "已接通", tally.reached),
            Figure("not_reached", "未接通", tally.made - tally.reached),
            Figure("reached_rate", "接通率", tally.reached_rate(), "percent"),
            Figure("problems", "客户问题", len(problems)),
            Figure(
                "problems_open",
                "问题未解决",
                sum(problem_state(p["forms"]) != "resolved" for p in problems),
            ),
        ],
        tables=[
            _outcomes_table(by_outcome, tally.made),
            _scores_table(tally),
            _problems_table(problems, names),
            _overdue_table(overdue, names, today),
        ],
        notes=list(NOTES),
    )


def _calls_made(source: ReportSource, period: Period) -> tuple[Tally, dict[str, int]]:
    model = callbacks_model(source)
    tally = Tally()
    by_outcome: dict[str, int] = dict.fromkeys(OUTCOME_LABELS, 0)
    for row in model.rows(
        f"SELECT c.outcome, c.{EXPLAINED} AS explained, COUNT(*) AS n"
        + from_callbacks()
        + " GROUP BY 1, 2",
        period_bounds(period),
    ):
        tally.add_callbacks(row["outcome"], row["explained"], row["n"])
        by_outcome[row["outcome"]] = by_outcome.get(row["outcome"], 0) + row["n"]
    for row in model.rows(
        "SELECT s.item, SUM(s.total) AS total, SUM(s.n) AS n"
        + FROM_SCORE_DAYS
        + " GROUP BY 1 HAVING SUM(s.n) > 0",
        period_bounds(period),
    ):
        tally.add_scores(row["item"], row["total"], row["n"])
    return tally, by_outcome


def _outcomes_table(by_outcome: dict[str, int], made: int) -> Table:
    return Table(
        "outcomes",
        "按回访结果",
        [
            Column("outcome", "回访结果"),
            Column("count", "次数", "int"),
            Column("share", "占比", "percent"),
        ],
        [
            {"outcome": OUTCOME_LABELS.get(code, code), "count": n, "share": rate(n, made)}
            for code, n in by_outcome.items()
        ],
        total={"outcome": "合计", "count": made, "share": None},
    )


def _scores_table(tally: Tally) -> Table:
    rows: list[dict[str, Any]] = [
        {
            "item": label,
            "answered": tally.counts.get(code, 0),
            "average": tally.item_average(code),
            "rate": None,
        }
        for code, label in score_items()
    ]
    rows.append(
        {
            "item": EXPLAINED_LABEL,
            "answered": tally.explained_answered,
            "average": None,
            "rate": tally.explained_rate(),
        }
    )
    return Table(
        "scores",
        "已接通回访的平均分",
        [
            Column("item", "评分项目"),
            Column("answered", "回答数", "int"),
            Column("average", "平均分", "score"),
            Column("rate", "“是”的比例", "percent"),
        ],
        rows,
    )


def _problems_table(problems: list[dict[str, Any]], names: dict[str, str]) -> Table:
    rows = []
    for p in problems:
        lead = leading_form(p["forms"])
        rows.append(
            {
                "business_date": date.fromisoformat(p["business_date"]),
                "number": p["number"],
                "customer": p["customer_name"],
                "work_order_no": p["work_order_no"] or p["registration_no"],
                "person": person_of(p).label(names),
                "words": p["customer_words"],
                "form": "、".join(f["number"] for f in p["forms"]) or None,
                "closed_at": lead["closed_at"] if lead else None,
                "state": STATE_LABELS[problem_state(p["forms"])],
            }
        )
    return Table(
        "problems",
        "客户问题及处理情况",
        [
            Column("business_date", "回访日期", "date"),
            Column("number", "回访编号"),
            Column("customer", "客户"),
            Column("work_order_no", "委托书号"),
            Column("person", "顾问"),
            Column("words", "客户原话"),
            Column("form", "快速处理表"),
            Column("closed_at", "关闭时间"),
            Column("state", "状态"),
        ],
        rows,
    )


def _overdue_table(overdue: list[dict[str, Any]], names: dict[str, str], today: date) -> Table:
    rows = []
    for d in overdue:
        until = d["answered"] or today
        rows.append(
            {
                "due": d["due"],
                "label": d["label"],
                "number": d["number"],
                "customer": d["customer_name"],
                "phone": d["customer_phone"],
                "person": names.get(d["person"], d["person"]) if d["person"] else None,
                "answered": d["answered"],
                "days_late": (until - d["due"]).days,
                "state": DUE_STATE_LABELS[d["state"]],
            }
        )
    return Table(
        "overdue",
        "逾期回访",
        [
            Column("due", "应回访日期", "date"),
            Column("label", "类别"),
            Column("number", "单号"),
            Column("customer", "客户"),
            Column("phone", "电话"),
            Column("person", "服务顾问/销售顾问"),
            Column("answered", "完成日期", "date"),
            Column("days_late", "逾期天数", "days"),
            Column("state", "状态"),
        ],
        rows,
    )


SPEC = ReportSpec(
    name="weekly-callbacks",
    title="周回访报告",
    periods=("week", "month"),
    build=build,
    due="monday",
    summary="每周一：应回访与逾期、回访结果、已接通回访的平均分、客户问题及处理情况",
)
