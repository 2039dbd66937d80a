"""客户投诉问题解决情况表 (due on the 3rd): every complaint and every problem a customer raised on a
callback in the period: the department at fault, the action, the result, the days to close and
where it stands, open ones first; counts by department and by state.

A complaint is a quick-handling form from a complaint (``source = complaint``); a callback
problem is a callback on which the customer had one (``problem``), with the forms that handle
it, whether or not there is one yet.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from archive.reports.callback_facts import (
    DEPARTMENT_LABELS,
    SOURCE_LABELS,
    STATE_LABELS,
    STATES,
    callbacks_model,
    form_state,
    leading_form,
    period_bounds,
    problem_state,
    problems_in,
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

UNKNOWN_DEPARTMENT = "未定"  # a callback problem no form handles yet names no department

NOTES = [
    "投诉：来源为“投诉”的快速处理表，按受理日期计入本期；回访问题：本期回访中“客户有问题”的"
    "回访记录，不论是否已建快速处理表。由回访建的快速处理表列在它的回访那一行。",
    "处理天数 = 关闭时间的日期 − 受理日期（回访问题为回访日期），按天计；未关闭的空白。",
    "平均处理天数只计已解决的（已关闭且服务经理已签字），与“已解决”件数相同；已关闭待服务经理"
    "签字的在表中列出处理天数，但不计入平均。",
    "状态：未建快速处理表、处理中（未关闭）、已关闭待服务经理签字、已解决（已关闭且服务经理已签字"
    "）。未解决的排在前面。作废的单据不计。",
]


def build(source: ReportSource, period: Period) -> Report:
    rows = [*_complaint_rows(source, period), *_problem_rows(source, period)]
    rows.sort(key=lambda r: (STATES.index(r["state_code"]), r["business_date"], r["number"]))
    unresolved = [r for r in rows if r["state_code"] != "resolved"]
    # Over exactly the forms counted 已解决: a form closed but awaiting the manager's signature
    # is still 未解决, so its days would make the average cover more than the count beside it.
    resolved_days = [r["days_to_close"] for r in rows if r["state_code"] == "resolved"]
    departments = _by_department(rows)
    return source.report(
        SPEC,
        period,
        figures=[
            Figure("total", "问题总数", len(rows)),
            Figure("complaints", "投诉", sum(r["source_code"] == "complaint" for r in rows)),
            Figure(
                "callback_problems", "回访问题", sum(r["source_code"] == "callback" for r in rows)
            ),
            Figure("unresolved", "未解决", len(unresolved)),
            Figure("resolved", "已解决", len(rows) - len(unresolved)),
            Figure("average_days", "平均处理天数（已解决）", _average_days(resolved_days), "days"),
        ],
        charts=[
            Chart(
                "by_department",
                "按责任部门",
                "bar",
                [d["department"] for d in departments],
                [
                    Series("未解决", [float(d["unresolved"]) for d in departments]),
                    Series("已解决", [float(d["resolved"]) for d in departments]),
                ],
                unit="件",
            )
        ],
        tables=[
            Table(
                "problems",
                "投诉及回访问题",
                [
                    Column("business_date", "受理日期", "date"),
                    Column("source", "来源"),
                    Column("number", "单号"),
                    Column("customer", "客户"),
                    Column("work_order_no", "委托书号"),
                    Column("department", "责任部门"),
                    Column("description", "问题描述"),
                    Column("action", "处理措施"),
                    Column("result", "处理结果"),
                    Column("days_to_close", "处理天数", "days"),
                    Column("state", "状态"),
                ],
                [{k: v for k, v in r.items() if not k.endswith("_code")} for r in rows],
            ),
            Table(
                "by_department",
                "按责任部门统计",
                [
                    Column("department", "责任部门"),
                    Column("total", "件数", "int"),
                    Column("unresolved", "未解决", "int"),
                    Column("resolved", "已解决", "int"),
                ],
                departments,
                total={
                    "department": "合计",
                    "total": len(rows),
                    "unresolved": len(unresolved),
                    "resolved": len(rows) - len(unresolved),
                },
            ),
            _by_state(rows),
        ],
        notes=list(NOTES),
    )


def _row(
    business_date: str, number: str, source: str, state: str, form: dict[str, Any] | None
) -> dict[str, Any]:
    """The columns every row has; the form's (department to result) when there is one."""
    opened = date.fromisoformat(business_date)
    closed_at = form["closed_at"] if form else None
    department = form["department_at_fault"] if form else None
    return {
        "business_date": opened,
        "source": SOURCE_LABELS[source],
        "source_code": source,
        "number": number,
        "department": DEPARTMENT_LABELS.get(department, department)
        if department
        else UNKNOWN_DEPARTMENT,
        "action": form["action"] if form else None,
        "result": form["result"] if form else None,
        "closed_at": closed_at,
        "days_to_close": (date.fromisoformat(closed_at[:10]) - opened).days if closed_at else None,
        "state": STATE_LABELS[state],
        "state_code": state,
    }


def _complaint_rows(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    forms = callbacks_model(source).rows(
        "SELECT * FROM cb_forms WHERE voided = 0 AND source = 'complaint'"
        " AND business_date >= ? AND business_date < ?",
        period_bounds(period),
    )
    return [
        {
            **_row(f["business_date"], f["number"], "complaint", form_state(f), f),
            "customer": f["customer_name"],
            "work_order_no": f["work_order_no"],
            "description": f["description"],
        }
        for f in forms
    ]


def _problem_rows(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    rows = []
    for p in problems_in(source, period):
        lead = leading_form(p["forms"])
        numbers = [p["number"], *(f["number"] for f in p["forms"])]
        rows.append(
            {
                **_row(
                    p["business_date"],
                    " / ".join(numbers),
                    "callback",
                    problem_state(p["forms"]),
                    lead,
                ),
                "customer": p["customer_name"],
                "work_order_no": p["work_order_no"] or (lead or {}).get("work_order_no"),
                "description": lead["description"] if lead else p["customer_words"],
            }
        )
    return rows


def _by_department(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = [*DEPARTMENT_LABELS.values(), UNKNOWN_DEPARTMENT]
    total = Counter(r["department"] for r in rows)
    unresolved = Counter(r["department"] for r in rows if r["state_code"] != "resolved")
    return [
        {
            "department": name,
            "total": total[name],
            "unresolved": unresolved[name],
            "resolved": total[name] - unresolved[name],
        }
        for name in sorted(total, key=lambda n: order.index(n) if n in order else len(order))
    ]


def _by_state(rows: list[dict[str, Any]]) -> Table:
    counts = Counter(r["state_code"] for r in rows)
    return Table(
        "by_state",
        "按处理状态统计",
        [Column("state", "状态"), Column("count", "件数", "int")],
        [{"state": STATE_LABELS[s], "count": counts[s]} for s in STATES],
        total={"state": "合计", "count": len(rows)},
    )


def _average_days(days: list[int]) -> float | None:
    if not days:
        return None
    exact = (Decimal(sum(days)) / Decimal(len(days))).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return float(exact)


SPEC = ReportSpec(
    name="complaints",
    title="客户投诉问题解决情况表",
    periods=("month", "year"),
    build=build,
    due="month_3rd",
    summary="每月 3 日：投诉和回访问题的责任部门、处理措施、结果、处理天数，未解决的在前",
)
