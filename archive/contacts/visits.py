"""Customers' visits as the customer reports read them: the work orders of the vehicle-history
projection (one row per document, ``vehicle_records``), and calendar months.

A visit is a live work order (projections/customers.py says why); its card fields (VIN, plate,
model, mileage, customer, advisor) are the JSON ``fields`` of its row, read only for the rows
a report shows.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.vehicles import VehicleHistory

VISIT = "work_order"
CHUNK = 500  # values per IN (...): well under SQLite's and PostgreSQL's limits


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), the month's last day when the
    month is shorter (08-31 + 6 months is 02-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class VisitRow:
    doc_id: str
    vin: str | None
    customer_key: str | None
    day: date


def visits_between(vehicles: VehicleHistory, start: date, end: date) -> list[VisitRow]:
    """Every live work order dated in [start, end), oldest first."""
    rows = vehicles.query(
        "SELECT doc_id, vin, customer_key, business_date FROM vehicle_records"
        " WHERE kind = ? AND voided = 0 AND business_date >= ? AND business_date < ?"
        " ORDER BY business_date, position",
        (VISIT, start.isoformat(), end.isoformat()),
    )
    return [
        VisitRow(r["doc_id"], r["vin"], r["customer_key"], date.fromisoformat(r["business_date"]))
        for r in rows
    ]


def chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def card_fields(vehicles: VehicleHistory, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """doc_id -> the card fields of that document."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(doc_ids):
        marks = ",".join("?" * len(chunk))
        for row in vehicles.query(
            f"SELECT doc_id, fields FROM vehicle_records WHERE doc_id IN ({marks})", tuple(chunk)
        ):
            found[row["doc_id"]] = json.loads(row["fields"])
    return found


def vehicle_visits(
    vehicles: VehicleHistory, vins: Iterable[str], before: date
) -> dict[str, list[tuple[date, dict[str, Any]]]]:
    """VIN -> its live work orders dated before ``before``, oldest first, with card fields."""
    found: dict[str, list[tuple[date, dict[str, Any]]]] = {}
    for chunk in chunks(vins):
        marks = ",".join("?" * len(chunk))
        for row in vehicles.query(
            "SELECT vin, business_date, fields FROM vehicle_records"
            f" WHERE kind = ? AND voided = 0 AND business_date < ? AND vin IN ({marks})"
            " ORDER BY vin, business_date, position",
            (VISIT, before.isoformat(), *chunk),
        ):
            found.setdefault(row["vin"], []).append(
                (date.fromisoformat(row["business_date"]), json.loads(row["fields"]))
            )
    return found


def staff_name(source: Any, username: str | None) -> str:
    """A staff member's name for a report (his username when he is unknown)."""
    if not username:
        return ""
    person = source.archive.staff.refresh().get(username)
    return person.name if person is not None else username
