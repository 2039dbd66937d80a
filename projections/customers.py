"""Customers and their vehicles, summarised from the vehicle history's rows (one per document).

Each vehicle (by VIN) and each customer (by mobile number: the one key every work order and
warranty registration carries) has one summary row: who it belongs to, its plate and model,
the number of visits (work orders), the last visit's date, mileage and service advisor, the
delivery date. Reports (churn, maintenance due) read these rows; the summaries are computed
from the history rows alone, so a rebuild gives the same as following the log.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

# A visit is a car brought in for service: a work order. Other papers (claims, vouchers,
# callbacks) belong to a visit and are not counted again.
VISIT_KINDS = frozenset({"work_order"})
# The paper that records a car's delivery to its buyer.
DELIVERY_KIND = "warranty_registration"
# The papers that establish who a customer is: the order he signs when he brings the car in,
# the registration made when he takes delivery. A later paper naming his phone (a callback, a
# quick-handling form) copies a name or is typed by someone else; it must not rename him.
ESTABLISHING_KINDS = frozenset({"work_order", DELIVERY_KIND})

TABLES = {
    "vehicle_summaries": (
        "CREATE TABLE IF NOT EXISTS vehicle_summaries ("
        " vin TEXT PRIMARY KEY, plate TEXT, model TEXT, customer_key TEXT,"
        " customer_name TEXT, customer_phone TEXT, service_advisor TEXT,"
        " documents INTEGER NOT NULL, visits INTEGER NOT NULL, first_date TEXT,"
        " last_visit_date TEXT, last_visit_no TEXT, last_visit_mileage_km INTEGER,"
        " mileage_km INTEGER, delivery_date TEXT)"
    ),
    "customer_summaries": (
        "CREATE TABLE IF NOT EXISTS customer_summaries ("
        " customer_key TEXT PRIMARY KEY, name TEXT, phone TEXT, vehicles INTEGER NOT NULL,"
        " documents INTEGER NOT NULL, visits INTEGER NOT NULL, first_date TEXT,"
        " last_visit_date TEXT, last_visit_no TEXT, last_visit_vin TEXT,"
        " last_visit_mileage_km INTEGER, service_advisor TEXT)"
    ),
}
INDEXES = (
    "CREATE INDEX IF NOT EXISTS vehicle_summaries_customer ON vehicle_summaries (customer_key)",
    "CREATE INDEX IF NOT EXISTS customer_summaries_last ON customer_summaries (last_visit_date)",
    "CREATE INDEX IF NOT EXISTS customer_summaries_advisor"
    " ON customer_summaries (service_advisor, last_visit_date)",
)


def customer_key(fields: dict[str, Any]) -> str | None:
    """Who a document's customer is: the mobile number (stored as 11 digits), or nobody."""
    phone = fields.get("customer_phone")
    return str(phone) if phone else None


def _rows(conn: sqlite3.Connection, column: str, key: str) -> list[dict[str, Any]]:
    found = conn.execute(
        f"SELECT kind, number, fields, vin, business_date FROM vehicle_records"
        f" WHERE {column} = ? AND voided = 0 ORDER BY business_date, position",
        (key,),
    ).fetchall()
    return [{**dict(r), "fields": json.loads(r["fields"])} for r in found]


def _latest(rows: list[dict[str, Any]], code: str) -> Any:
    return next((r["fields"][code] for r in reversed(rows) if r["fields"].get(code)), None)


def _establishing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose papers say who the customer is; all rows when none does (a customer
    known only from a paper filed before his order was: better his name there than none)."""
    return [r for r in rows if r["kind"] in ESTABLISHING_KINDS] or rows


def _visit_facts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    visits = [r for r in rows if r["kind"] in VISIT_KINDS]
    last = visits[-1] if visits else None
    return {
        "documents": len(rows),
        "visits": len(visits),
        "first_date": next((r["business_date"] for r in rows if r["business_date"]), None),
        "last_visit_date": last["business_date"] if last else None,
        "last_visit_no": last["number"] if last else None,
        "last_visit_mileage_km": last["fields"].get("mileage_km") if last else None,
        # The customer's advisor is the one who received him last (he "owns" the customer).
        "service_advisor": (last["fields"].get("service_advisor") if last else None)
        or _latest(rows, "service_advisor"),
    }


def refresh_vehicles(conn: sqlite3.Connection, vins: Iterable[str]) -> None:
    for vin in vins:
        conn.execute("DELETE FROM vehicle_summaries WHERE vin = ?", (vin,))
        rows = _rows(conn, "vin", vin)
        if not rows:
            continue
        facts = _visit_facts(rows)
        # The owner now: the latest establishing paper that names a customer by phone.
        owner = next(
            (r["fields"] for r in reversed(_establishing(rows)) if customer_key(r["fields"])), {}
        )
        delivery = next(
            (
                r["fields"].get("delivery_date")
                for r in reversed(rows)
                if r["kind"] == DELIVERY_KIND
            ),
            None,
        )
        conn.execute(
            "INSERT INTO vehicle_summaries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                vin,
                _latest(rows, "plate"),
                _latest(rows, "model"),
                customer_key(owner),
                owner.get("customer_name"),
                owner.get("customer_phone"),
                facts["service_advisor"],
                facts["documents"],
                facts["visits"],
                facts["first_date"],
                facts["last_visit_date"],
                facts["last_visit_no"],
                facts["last_visit_mileage_km"],
                _latest(rows, "mileage_km"),
                delivery,
            ),
        )


def refresh_customers(conn: sqlite3.Connection, keys: Iterable[str]) -> None:
    for key in keys:
        conn.execute("DELETE FROM customer_summaries WHERE customer_key = ?", (key,))
        rows = _rows(conn, "customer_key", key)
        if not rows:
            continue
        facts = _visit_facts(rows)
        visits = [r for r in rows if r["kind"] in VISIT_KINDS]
        conn.execute(
            "INSERT INTO customer_summaries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                key,
                _latest(_establishing(rows), "customer_name"),
                key,
                len({r["vin"] for r in rows if r["vin"]}),
                facts["documents"],
                facts["visits"],
                facts["first_date"],
                facts["last_visit_date"],
                facts["last_visit_no"],
                visits[-1]["vin"] if visits else None,
                facts["last_visit_mileage_km"],
                facts["service_advisor"],
            ),
        )
