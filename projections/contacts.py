"""The desk's contacts with customers, for the customer reports' lists.

Three tables. ``contact_visits``: every work order (a customer's visit) with its VIN,
customer, date and mileage, for the churn, maintenance and greeting windows.
``contact_outcomes``: the latest outcome of each reminder or greeting
(``events.contacts.CustomerContact``), found by purpose and occasion. ``churn_calls``: every
callback with its customer, date and the churn reason when one was asked. All kept current
through amendments and voids.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from events.contacts import CustomerContact
from events.document import Document
from projections.sqlstore import SqliteProjection

CALLBACK = "callback"
VISIT = "work_order"  # a visit is a work order (projections/customers.py says why)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _km(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


class Contacts(SqliteProjection):
    name = "contacts"
    # 2: contact_visits, the customers' visits as the customer reports read them
    shape = 2
    tables = {  # noqa: RUF012
        "contact_outcomes": (
            "CREATE TABLE IF NOT EXISTS contact_outcomes ("
            " contact_id TEXT PRIMARY KEY, purpose TEXT NOT NULL, subject TEXT NOT NULL,"
            " occasion TEXT NOT NULL, outcome TEXT, note TEXT, actor TEXT, at TEXT,"
            " times INTEGER NOT NULL DEFAULT 0)"
        ),
        # One row per work order (a visit): the customer reports' windows are date ranges
        # over it, and a car's pace needs its mileage without reading each paper's fields.
        "contact_visits": (
            "CREATE TABLE IF NOT EXISTS contact_visits ("
            " doc_id TEXT PRIMARY KEY, vin TEXT, customer_key TEXT, business_date TEXT,"
            " mileage_km INTEGER, position INTEGER NOT NULL, voided INTEGER NOT NULL DEFAULT 0)"
        ),
        "churn_calls": (
            "CREATE TABLE IF NOT EXISTS churn_calls ("
            " doc_id TEXT PRIMARY KEY, number TEXT NOT NULL, customer_key TEXT,"
            " business_date TEXT, reason TEXT, voided INTEGER NOT NULL DEFAULT 0)"
        ),
    }
    indexes = (
        "CREATE INDEX IF NOT EXISTS contact_outcomes_occasion"
        " ON contact_outcomes (purpose, occasion)",
        "CREATE INDEX IF NOT EXISTS churn_calls_date ON churn_calls (business_date)",
        "CREATE INDEX IF NOT EXISTS contact_visits_date ON contact_visits (business_date)",
        "CREATE INDEX IF NOT EXISTS contact_visits_vin ON contact_visits (vin, business_date)",
        "CREATE INDEX IF NOT EXISTS contact_visits_customer"
        " ON contact_visits (customer_key, business_date)",
    )

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, CustomerContact.Opened):
            conn.execute(
                "INSERT INTO contact_outcomes (contact_id, purpose, subject, occasion, times)"
                " VALUES (?, ?, ?, ?, 0) ON CONFLICT (contact_id) DO NOTHING",
                (str(event.originator_id), event.purpose, event.subject, event.occasion),
            )
        elif isinstance(event, CustomerContact.ReminderOutcomeRecorded):
            self._outcome(conn, event, event.outcome)
        elif isinstance(event, CustomerContact.GreetingRecorded):
            self._outcome(conn, event, event.result)
        elif isinstance(event, Document.Filed):
            if event.kind == VISIT:
                fields = event.fields
                conn.execute(
                    "INSERT INTO contact_visits (doc_id, vin, customer_key, business_date,"
                    " mileage_km, position, voided) VALUES (?, ?, ?, ?, ?, ?, 0)"
                    " ON CONFLICT (doc_id) DO NOTHING",
                    (
                        str(event.originator_id),
                        _text(fields.get("vin")),
                        _text(fields.get("customer_phone")),
                        _text(fields.get("business_date")),
                        _km(fields.get("mileage_km")),
                        notification_id,
                    ),
                )
            elif event.kind == CALLBACK:
                fields = event.fields
                conn.execute(
                    "INSERT INTO churn_calls (doc_id, number, customer_key, business_date,"
                    " reason, voided) VALUES (?, ?, ?, ?, ?, 0)"
                    " ON CONFLICT (doc_id) DO NOTHING",
                    (
                        str(event.originator_id),
                        event.number,
                        _text(fields.get("customer_phone")),
                        _text(fields.get("business_date")),
                        _text(fields.get("churn_reason")),
                    ),
                )
        elif isinstance(event, Document.Amended):
            columns = {
                "customer_phone": "customer_key",
                "business_date": "business_date",
                "churn_reason": "reason",
            }
            for code, column in columns.items():
                if code in event.changes:  # only callbacks have a row: others update nothing
                    conn.execute(
                        f"UPDATE churn_calls SET {column} = ? WHERE doc_id = ?",
                        (_text(event.changes[code]), str(event.originator_id)),
                    )
            visit_columns = {
                "vin": "vin",
                "customer_phone": "customer_key",
                "business_date": "business_date",
            }
            for code, column in visit_columns.items():
                if code in event.changes:  # only work orders have a row
                    conn.execute(
                        f"UPDATE contact_visits SET {column} = ? WHERE doc_id = ?",
                        (_text(event.changes[code]), str(event.originator_id)),
                    )
            if "mileage_km" in event.changes:
                conn.execute(
                    "UPDATE contact_visits SET mileage_km = ? WHERE doc_id = ?",
                    (_km(event.changes["mileage_km"]), str(event.originator_id)),
                )
        elif isinstance(event, Document.Voided):
            for table in ("churn_calls", "contact_visits"):
                conn.execute(
                    f"UPDATE {table} SET voided = 1 WHERE doc_id = ?", (str(event.originator_id),)
                )

    @staticmethod
    def _outcome(conn: sqlite3.Connection, event: Any, outcome: str) -> None:
        conn.execute(
            "UPDATE contact_outcomes SET outcome = ?, note = ?, actor = ?, at = ?,"
            " times = times + 1 WHERE contact_id = ?",
            (
                outcome,
                event.note,
                event.actor,
                event.timestamp.isoformat(),
                str(event.originator_id),
            ),
        )

    # -- reading -----------------------------------------------------------------------------

    def outcomes(self, purpose: str, occasions: list[str]) -> dict[tuple[str, str], Any]:
        """(subject, occasion) -> the row of the latest outcome, for the given occasions."""
        found: dict[tuple[str, str], Any] = {}
        for start in range(0, len(occasions), 500):
            chunk = occasions[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.query(
                "SELECT subject, occasion, outcome, note, actor, at, times FROM contact_outcomes"
                f" WHERE purpose = ? AND occasion IN ({marks}) AND outcome IS NOT NULL",
                (purpose, *chunk),
            ):
                found[(row["subject"], row["occasion"])] = row
        return found

    def churn_reasons(self, start: str, end: str) -> list[Any]:
        """Live callbacks dated in [start, end) that recorded a churn reason."""
        return self.query(
            "SELECT number, customer_key, business_date, reason FROM churn_calls"
            " WHERE business_date >= ? AND business_date < ? AND voided = 0"
            " AND reason IS NOT NULL ORDER BY business_date, number",
            (start, end),
        )
