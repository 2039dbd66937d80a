"""定期保养一览表 (report 6): the vehicles due for periodic maintenance in a month, the outcome
of each reminder, and the month's first-service thank-you letters.

A car is due ``maintenance_months`` after its last visit, or once it has run
``maintenance_km`` more kilometres, whichever comes first. Its pace (km a day) is its own:
from the first to the last visit before the month that recorded a mileage, when they are at
least 30 days apart and the mileage grew; a car without such a pair is due by date only.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

from archive.contacts.rules import (
    MIN_PACE_DAYS,
    NO_INVITATION,
    OUTCOME_LABELS,
    REMINDER_OUTCOMES,
    due_of,
)
from archive.contacts.settings import report_settings
from archive.contacts.visits import add_months, card_fields, chunks, staff_names
from archive.reports.model import Column, Figure, Period, Report, ReportSource, ReportSpec, Table
from archive.reports.periods import this_month
from events.contacts import REMINDER

TITLE = "定期保养一览表"
NOT_YET = "未联系"
FIRST_SERVICE = "first_service_voucher"

DUE_COLUMNS = (
    Column("due", "到期日", "date"),
    Column("basis", "依据"),
    Column("car", "车辆"),
    Column("vin", "VIN"),
    Column("customer", "客户"),
    Column("phone", "电话"),
    Column("last_visit", "上次到店", "date"),
    Column("last_km", "上次公里数", "int"),
    Column("advisor", "顾问"),
    Column("outcome", "提醒结果"),
    Column("note", "备注"),
)
LETTER_COLUMNS = (
    Column("number", "首保凭证号"),
    Column("day", "首保日期", "date"),
    Column("plate", "车牌"),
    Column("model", "车型"),
    Column("customer", "客户"),
    Column("phone", "电话"),
)


def due_vehicles(source: ReportSource, start: date, end: date) -> list[dict[str, Any]]:
    """The cars due in [start, end) as their visits before ``start`` say, by due date."""
    settings = report_settings(source.archive.settings)
    # A car last seen before this window was due by date before ``start`` already.
    window = add_months(start, -settings.maintenance_months) - timedelta(days=3)
    rows = source.models.contacts.query(
        "SELECT vin, business_date, mileage_km, doc_id FROM contact_visits"
        " WHERE voided = 0 AND business_date < ? AND vin IN (SELECT vin FROM contact_visits"
        " WHERE voided = 0 AND business_date >= ? AND business_date < ?)"
        " ORDER BY vin, business_date, position",
        (start.isoformat(), window.isoformat(), start.isoformat()),
    )
    cars: dict[str, list[tuple[date, int | None, str]]] = {}
    for row in rows:
        cars.setdefault(row["vin"], []).append(
            (date.fromisoformat(row["business_date"]), row["mileage_km"], row["doc_id"])
        )
    found = []
    for vin, visits in cars.items():
        due = due_of([(d, km) for d, km, _ in visits], settings)
        if due is not None and start <= due.day < end:
            found.append({"vin": vin, "due": due, "last": visits[-1][2]})
    cards = card_fields(source.models.vehicles, (r["last"] for r in found))
    for item in found:
        item["fields"] = cards.get(item["last"], {})
    found.sort(key=lambda r: (r["due"].day, r["vin"]))
    return found


def first_service_letters(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    """The month's live first-service vouchers: one thank-you letter each."""
    rows = source.models.vehicles.query(
        "SELECT number, business_date, fields FROM vehicle_records WHERE kind = ?"
        " AND voided = 0 AND business_date >= ? AND business_date < ?"
        " ORDER BY business_date, number",
        (FIRST_SERVICE, period.start.isoformat(), period.end.isoformat()),
    )
    cards = [json.loads(row["fields"]) for row in rows]
    # A voucher names the car, not always its model or owner's phone: the car's summary does.
    owners = {}
    for chunk in chunks({str(c["vin"]) for c in cards if c.get("vin")}):
        marks = ",".join("?" * len(chunk))
        for car in source.models.vehicles.query(
            "SELECT vin, plate, model, customer_name, customer_phone FROM vehicle_summaries"
            f" WHERE vin IN ({marks})",
            tuple(chunk),
        ):
            owners[car["vin"]] = dict(car)
    letters = []
    for row, fields in zip(rows, cards, strict=True):
        car = owners.get(fields.get("vin")) or {}
        letters.append(
            {
                "number": row["number"],
                "day": date.fromisoformat(row["business_date"]),
                "plate": fields.get("plate") or car.get("plate"),
                "model": fields.get("model") or car.get("model"),
                "vin": fields.get("vin"),
                "customer": fields.get("customer_name") or car.get("customer_name"),
                "phone": fields.get("customer_phone") or car.get("customer_phone"),
            }
        )
    return letters


def _due_rows(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    due = due_vehicles(source, period.start, period.end)
    outcomes = source.models.contacts.outcomes(
        REMINDER, sorted({r["due"].day.isoformat() for r in due})
    )
    names = staff_names(source)
    rows = []
    for item in due:
        fields, when = item["fields"], item["due"]
        recorded = outcomes.get((item["vin"], when.day.isoformat()))
        rows.append(
            {
                "due": when.day,
                "by": when.by,
                # The pace said only where it decided the date; the table has no room for more.
                "basis": f"里程（日均 {when.km_per_day} km）" if when.by == "里程" else "时间",
                "car": " ".join(str(fields[c]) for c in ("plate", "model") if fields.get(c)),
                "plate": fields.get("plate"),
                "model": fields.get("model"),
                "vin": item["vin"],
                "customer": fields.get("customer_name"),
                "phone": fields.get("customer_phone"),
                "last_visit": when.last_visit,
                "last_km": when.last_km,
                "km_per_day": when.km_per_day,
                "advisor": names.get(
                    fields.get("service_advisor") or "", fields.get("service_advisor")
                ),
                "outcome": OUTCOME_LABELS.get(recorded["outcome"], recorded["outcome"])
                if recorded
                else NOT_YET,
                "outcome_code": recorded["outcome"] if recorded else None,
                "note": (recorded["note"] or None) if recorded else None,
            }
        )
    return rows


def build(source: ReportSource, period: Period) -> Report:
    settings = report_settings(source.archive.settings)
    rows = _due_rows(source, period)
    letters = first_service_letters(source, period)
    outcomes = Counter(r["outcome_code"] for r in rows)
    figures = [
        Figure("due", "本月到期（台）", len(rows)),
        Figure("by_date", "按时间到期", sum(r["by"] == "时间" for r in rows)),
        Figure("by_km", "按里程到期", sum(r["by"] == "里程" for r in rows)),
        *(Figure(code, label, outcomes[code]) for code, label in REMINDER_OUTCOMES),
        Figure("not_contacted", NOT_YET, outcomes[None]),
        Figure("letters", "首保感谢信（封）", len(letters)),
    ]
    return source.report(
        SPEC,
        period,
        figures=figures,
        tables=[
            Table("due", "本月到期车辆", DUE_COLUMNS, rows, empty="本月没有到期的车辆"),
            Table("letters", "首保感谢信", LETTER_COLUMNS, letters, empty="本月没有首保"),
        ],
        notes=[
            f"到期：上次到店（有效的维修委托书）后 {settings.maintenance_months} 个月，"
            f"或行驶 {settings.maintenance_km} 公里，以先到者为准；按本月 1 日之前的到店记录计算。",
            f"日均里程：取本车本月之前第一次和最后一次有里程的到店记录，两次相隔至少 "
            f"{MIN_PACE_DAYS} 天且里程增加时，用里程差除以天数；没有这样两次记录的车只按时间。",
            "提醒结果：服务顾问或信息员登记的最近一次结果（已电话提醒、已寄邀请信、已预约、"
            "客户谢绝）；未登记的显示“未联系”。",
            "首保感谢信：本月首保日期的有效首保凭证，每份一封；邀请信和感谢信可一起打印"
            "（archive letters --month 或本页“打印邀请信”）。",
            "不指定月份时显示本月：本月到期、要提醒和寄信的车（不是上个月的）。",
            "邀请信只寄给尚未预约、也未谢绝的车：提醒结果为"
            + "或".join(f"“{OUTCOME_LABELS[c]}”" for c in NO_INVITATION)
            + "的车不打印邀请信。",
        ],
    )


SPEC = ReportSpec(
    name="maintenance",
    title=TITLE,
    periods=("month",),
    build=build,
    summary="本月到期的定期保养车辆、提醒结果，以及邀请信和首保感谢信",
    page_extra="_contact_outcome.html",
    default=this_month,  # a list to work through (and letters to send): this month's, not the last
)
