"""首保登记表: the first-service register, from the first-service vouchers (首保凭证).

For a month: one row per live voucher (date, voucher no, VIN, plate, model, customer, mileage,
work order no, advisor) and the count by model. For a year: the count by month as a chart and
a table, and the count by model.

Read from two read models: ``vehicle_records`` (projections/vehicles.py: each voucher's VIN,
plate, mileage, customer and advisor as filed or amended, and the car's model from its
``vehicle_summaries`` row) and ``wl_docs`` (projections/worklists.py: the work order each voucher
names). A voucher does not carry the model: it is the car's, from its work orders.
"""

from __future__ import annotations

import json
from typing import Any

from archive.queries.documents import staff_names
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

KIND = "first_service_voucher"
NO_MODEL = "（车型未知）"


def vouchers(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    """The live vouchers of the period (business date), by date and number."""
    span = (KIND, period.start.isoformat(), period.end.isoformat())
    rows = source.models.vehicles.query(
        "SELECT r.doc_id, r.number, r.business_date, r.vin, r.fields, s.model"
        " FROM vehicle_records r LEFT JOIN vehicle_summaries s ON s.vin = r.vin"
        " WHERE r.kind = ? AND r.voided = 0 AND r.business_date >= ? AND r.business_date < ?"
        " ORDER BY r.business_date, r.number",
        span,
    )
    orders = {
        row["doc_id"]: row["work_order_no"]
        for row in source.models.worklists.query(
            "SELECT doc_id, work_order_no FROM wl_docs WHERE kind = ? AND voided = 0"
            " AND business_date >= ? AND business_date < ?",
            span,
        )
    }
    names = staff_names(source.archive)
    found = []
    for row in rows:
        fields = json.loads(row["fields"])
        advisor = fields.get("service_advisor")
        found.append(
            {
                "date": row["business_date"],
                "number": row["number"],
                "vin": row["vin"],
                "plate": fields.get("plate"),
                "model": row["model"] or fields.get("model"),
                "customer": fields.get("customer_name"),
                "mileage_km": fields.get("mileage_km"),
                "work_order_no": orders.get(row["doc_id"]),
                "advisor": names.get(advisor, advisor) if advisor else None,
            }
        )
    return found


def build(source: ReportSource, period: Period) -> Report:
    report = source.report(
        SPEC,
        period,
    )
    found = vouchers(source, period)
    models: dict[str, int] = {}
    for v in found:
        models[v["model"] or NO_MODEL] = models.get(v["model"] or NO_MODEL, 0) + 1
    report.figures += [
        Figure("vouchers", "首保台次", len(found)),
        Figure("models", "车型数", len(models)),
    ]
    if period.kind == "year":
        _by_month(report, found)
    else:
        report.tables.append(_register(found))
    report.tables.append(
        Table(
            "by_model",
            "按车型",
            [Column("model", "车型"), Column("count", "台次", "int")],
            [
                {"model": m, "count": n}
                for m, n in sorted(models.items(), key=lambda i: (-i[1], i[0]))
            ],
            total={"model": "合计", "count": len(found)},
        )
    )
    report.notes.append("每张未作废的首保凭证计一台次，按首保日期计入当月；车型取自该车的委托书。")
    return report


def _register(found: list[dict[str, Any]]) -> Table:
    return Table(
        "register",
        "首保登记表",
        [
            Column("index", "序号", "int"),
            Column("date", "首保日期", "date"),
            Column("number", "凭证号"),
            Column("vin", "VIN（车架号）"),
            Column("plate", "车牌"),
            Column("model", "车型"),
            Column("customer", "客户"),
            Column("mileage_km", "里程（km）", "int"),
            Column("work_order_no", "委托书号"),
            Column("advisor", "服务顾问"),
        ],
        [{"index": i, **v} for i, v in enumerate(found, start=1)],
        empty="本期没有首保凭证",
    )


def _by_month(report: Report, found: list[dict[str, Any]]) -> None:
    year = report.period.start.year
    counts = [0] * 12
    for v in found:
        counts[int(v["date"][5:7]) - 1] += 1
    labels = [f"{m}月" for m in range(1, 13)]
    report.charts.append(
        Chart(
            "by_month",
            f"{year}年每月首保台次",
            "bar",
            labels,
            [Series("首保台次", counts)],
            unit="台",
        )
    )
    report.tables.append(
        Table(
            "by_month",
            "按月",
            [Column("month", "月份"), Column("count", "台次", "int")],
            [{"month": f"{year}-{m:02d}", "count": counts[m - 1]} for m in range(1, 13)],
            total={"month": "合计", "count": len(found)},
        )
    )


SPEC = ReportSpec(
    name="first-service",
    title="首保登记表",
    periods=("month", "year"),
    build=build,
    due="month_3rd",
    summary="当月首保凭证登记：日期、凭证号、VIN、车牌、车型、客户、里程、委托书号、服务顾问；按车型统计，按年看每月台次。",
)
