"""Customers' visits as the customer reports read them, and calendar months.

A visit is a live work order (projections/customers.py says why). Windows of dates are read
from the contacts projection's ``contact_visits`` (VIN, customer, date, mileage); a visit's
card fields (plate, model, customer's name, advisor) from the vehicle history's
``vehicle_records``, only for the rows a report shows.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.contacts import Contacts
from projections.vehicles import VehicleHistory

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


def visits_between(contacts: Contacts, start: date, end: date) -> list[VisitRow]:
    """Every live work order dated in [start, end), oldest first."""
    rows = contacts.query(
        "SELECT doc_id, vin, customer_key, business_date FROM contact_visits"
        " WHERE voided = 0 AND business_date >= ? AND business_date < ?"
        " ORDER BY business_date, position",
        (start.isoformat(), end.isoformat()),
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
    contacts: Contacts, vins: Iterable[str], before: date
) -> dict[str, list[tuple[date, int | None, str]]]:
    """VIN -> its live work orders dated before ``before``, oldest first: (date, mileage,
    doc_id)."""
    found: dict[str, list[tuple[date, int | None, str]]] = {}
    for chunk in chunks(vins):
        marks = ",".join("?" * len(chunk))
        for row in contacts.query(
            "SELECT vin, business_date, mileage_km, doc_id FROM contact_visits"
            f" WHERE voided = 0 AND business_date < ? AND vin IN ({marks})"
            " ORDER BY vin, business_date, position",
            (before.isoformat(), *chunk),
        ):
            found.setdefault(row["vin"], []).append(
                (date.fromisoformat(row["business_date"]), row["mileage_km"], row["doc_id"])
            )
    return found


def staff_names(source: Any) -> dict[str, str]:
    """Username -> name, for a report's advisor columns (read once per report)."""
    return {p.username: p.name for p in source.archive.staff.refresh().values()}
