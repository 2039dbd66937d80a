"""日报: the view of the daily report drafted by ``archive.commands.daily_report``.

For a day: the report filed (number, status, whether the clerk and the service manager have
signed), its lines, the count and revenue it states, and the day's live work orders it misses.
For a month: one row per day (report filed? signed by the manager? orders, revenue) and a bar
chart of the work orders per day.

Read from three read models: the daily reports' lines and totals (``projections.
daily_reports``), the documents and the signatures owed (``projections.worklists``: ``wl_docs``,
``wl_owed``). An unsigned report stays on the service manager's worklist (the kind's signers
include ``service_manager``), which is why "signed by the manager" is shown for every day.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from archive.kinds.registry import REPAIR_TYPES
from archive.queries.documents import STATUS_LABELS, today
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
from archive.reports.periods import days

KIND = "daily_report"
MANAGER, CLERK = "service_manager", "clerk"
_REPAIR_LABELS = dict(REPAIR_TYPES)


def build(source: ReportSource, period: Period) -> Report:
    archive = source.archive
    report = source.report(
        SPEC,
        period,
    )
    orders = work_orders(source, period)
    filed = filed_reports(source, period)
    if period.kind == "day":
        _day(report, orders, filed)
    else:
        _month(report, orders, filed, today(archive))
    report.notes.append("委托书按开单日期计入当天；作废的委托书和日报不计。")
    report.notes.append("产值为日报所报金额（工时加配件）；日报未签字的，仍在服务经理待办中。")
    return report


def work_orders(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    """The live work orders of the period (business date), by date and number."""
    rows = source.models.worklists.query(
        "SELECT number, business_date, plate, repair_type FROM wl_docs"
        " WHERE kind = ? AND voided = 0 AND business_date >= ? AND business_date < ?"
        " ORDER BY business_date, number",
        ("work_order", period.start.isoformat(), period.end.isoformat()),
    )
    return [dict(r) for r in rows]


def filed_reports(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    """The live daily reports of the period with their lines, status and owed signatures."""
    models = source.models
    reports = models.daily_reports.reports(period.start.isoformat(), period.end.isoformat())
    docs = {
        r["doc_id"]: dict(r)
        for r in models.worklists.query(
            "SELECT doc_id, status FROM wl_docs WHERE kind = ? AND voided = 0"
            " AND business_date >= ? AND business_date < ?",
            (KIND, period.start.isoformat(), period.end.isoformat()),
        )
    }
    owed: dict[str, set[str]] = {}
    for row in models.worklists.query(
        "SELECT o.doc_id, o.role FROM wl_owed o JOIN wl_docs d ON d.doc_id = o.doc_id"
        " WHERE d.kind = ? AND d.business_date >= ? AND d.business_date < ?",
        (KIND, period.start.isoformat(), period.end.isoformat()),
    ):
        owed.setdefault(row["doc_id"], set()).add(row["role"])
    for report in reports:
        doc = docs.get(report["doc_id"], {})
        report["status"] = doc.get("status")
        report["manager_signed"] = MANAGER not in owed.get(report["doc_id"], set())
        report["clerk_signed"] = CLERK not in owed.get(report["doc_id"], set())
    return reports


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0.00")


def _day(report: Report, orders: list[dict[str, Any]], filed: list[dict[str, Any]]) -> None:
    lines = [line for r in filed for line in r["lines"]]
    listed = {str(line.get("work_order_no") or "") for line in lines}
    missing = [o for o in orders if o["number"] not in listed]
    stated = sum((_money(r["revenue"]) for r in filed), Decimal("0.00"))
    counted = sum(int(r["work_order_count"] or 0) for r in filed)
    report.figures += [
        Figure("reports", "日报份数", len(filed)),
        Figure("work_orders", "当日委托书（系统）", len(orders)),
        Figure("listed", "日报所列委托书", counted),
        Figure("revenue", "日报产值（元）", stated if filed else None, "money"),
        Figure("missing", "日报漏报委托书", len(missing)),
        Figure(
            "manager_signed",
            "服务经理已签",
            ("是" if all(r["manager_signed"] for r in filed) else "否") if filed else "未报日报",
            "text",
        ),
    ]
    report.tables.append(
        Table(
            "reports",
            "日报",
            [
                Column("number", "日报编号"),
                Column("status", "状态"),
                Column("clerk_signed", "信息员签字"),
                Column("manager_signed", "服务经理签字"),
                Column("work_order_count", "委托书数", "int"),
                Column("revenue", "产值（元）", "money"),
            ],
            [
                {
                    "number": r["number"],
                    "status": STATUS_LABELS.get(r["status"], r["status"]),
                    "clerk_signed": "已签" if r["clerk_signed"] else "未签",
                    "manager_signed": "已签" if r["manager_signed"] else "未签",
                    "work_order_count": r["work_order_count"],
                    "revenue": _money(r["revenue"]),
                }
                for r in filed
            ],
            empty="当天还没有报日报",
        )
    )
    report.tables.append(
        Table(
            "lines",
            "日报明细",
            [
                Column("work_order_no", "委托书号"),
                Column("plate", "车牌"),
                Column("repair_type", "类别"),
                Column("amount", "金额（元）", "money"),
            ],
            [
                {
                    "work_order_no": line.get("work_order_no"),
                    "plate": line.get("plate"),
                    "repair_type": _REPAIR_LABELS.get(line.get("repair_type") or ""),
                    "amount": _money(line.get("amount")),
                }
                for line in lines
            ],
            total={
                "work_order_no": f"合计 {len(lines)} 份",
                "amount": sum((_money(line.get("amount")) for line in lines), Decimal("0.00")),
            },
        )
    )
    report.tables.append(
        Table(
            "missing",
            "日报漏报的委托书",
            [
                Column("number", "委托书号"),
                Column("plate", "车牌"),
                Column("repair_type", "类别"),
            ],
            [
                {
                    "number": o["number"],
                    "plate": o["plate"],
                    "repair_type": _REPAIR_LABELS.get(o["repair_type"] or ""),
                }
                for o in missing
            ],
            empty="无漏报",
        )
    )


def _month(
    report: Report, orders: list[dict[str, Any]], filed: list[dict[str, Any]], on: Any
) -> None:
    by_day: dict[str, list[dict[str, Any]]] = {}
    for r in filed:
        by_day.setdefault(r["business_date"], []).append(r)
    counts: dict[str, int] = {}
    missed: dict[str, int] = {}
    listed = {str(line.get("work_order_no") or "") for r in filed for line in r["lines"]}
    for o in orders:
        counts[o["business_date"]] = counts.get(o["business_date"], 0) + 1
        if o["number"] not in listed:
            missed[o["business_date"]] = missed.get(o["business_date"], 0) + 1
    rows = []
    for day in days(report.period):
        if day > on:
            break  # days to come are neither reported nor missing
        key = day.isoformat()
        reports = by_day.get(key, [])
        rows.append(
            {
                "date": day,
                "numbers": "、".join(r["number"] for r in reports) or None,
                "filed": "已报" if reports else ("未报" if counts.get(key) else "无委托书"),
                "manager_signed": (
                    ("已签" if all(r["manager_signed"] for r in reports) else "未签")
                    if reports
                    else None
                ),
                "work_orders": counts.get(key, 0),
                "listed": sum(int(r["work_order_count"] or 0) for r in reports)
                if reports
                else None,
                "missing": missed.get(key, 0),
                "revenue": sum((_money(r["revenue"]) for r in reports), Decimal("0.00"))
                if reports
                else None,
            }
        )
    revenue = sum((_money(r["revenue"]) for r in filed), Decimal("0.00"))
    unfiled = [r for r in rows if r["filed"] == "未报"]
    unsigned = [r for r in filed if not r["manager_signed"]]
    report.figures += [
        Figure("reported_days", "已报日报天数", len(by_day)),
        Figure("unreported_days", "有委托书未报日报天数", len(unfiled)),
        Figure("manager_unsigned", "服务经理未签日报", len(unsigned)),
        Figure("missing", "漏报委托书", sum(missed.values())),
        Figure("work_orders", "委托书（系统）", len(orders)),
        Figure("revenue", "日报产值合计（元）", revenue, "money"),
    ]
    report.charts.append(
        Chart(
            "orders_per_day",
            "每日委托书数",
            "bar",
            [f"{r['date'].day}日" for r in rows],
            [Series("委托书", [r["work_orders"] for r in rows])],
            unit="份",
        )
    )
    report.tables.append(
        Table(
            "days",
            "每日日报",
            [
                Column("date", "日期", "date"),
                Column("numbers", "日报编号"),
                Column("filed", "日报"),
                Column("manager_signed", "服务经理签字"),
                Column("work_orders", "委托书（系统）", "int"),
                Column("listed", "日报所列", "int"),
                Column("missing", "漏报", "int"),
                Column("revenue", "产值（元）", "money"),
            ],
            rows,
            total={
                "date": None,
                "numbers": "合计",
                "work_orders": len(orders),
                "listed": sum(int(r["work_order_count"] or 0) for r in filed),
                "missing": sum(missed.values()),
                "revenue": revenue,
            },
        )
    )


SPEC = ReportSpec(
    name="daily",
    title="日报",
    periods=("day", "month"),
    build=build,
    due="daily",
    summary="当天的委托书、产值和日报签字情况，漏报的委托书；按月看每天是否已报、已签。",
)
