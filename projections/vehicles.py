"""The vehicle history card (车历卡): everything recorded for one VIN, in date order.

Nobody files a history card by hand; it is this projection. One row per document that names
a VIN, kept current from the document's own events (no aggregate is loaded). A card is found
by VIN, by its last 6 or 8 characters, or by any plate the car carried (with or without the
province); each batch also refreshes the summaries of the vehicles and customers it touched
(``projections.customers``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from events.canonical import plain
from events.document import Document
from projections import customers
from projections.runner import Batch
from projections.search.keys import normalize_plate, plate_tail
from projections.sqlstore import SqlBatch, SqliteProjection

# Fields copied onto the card (and read by the customer summaries), and the text that
# summarises a visit.
CARD_FIELDS = (
    "vin",
    "plate",
    "model",
    "mileage_km",
    "business_date",
    "customer_name",
    "customer_phone",
    "service_advisor",
    "delivery_date",
)
SUMMARY_FIELDS = ("fault_description", "work_done", "handling_process", "customer_words")


@dataclass(frozen=True)
class Visit:
    doc_id: str
    kind: str
    number: str
    business_date: str
    mileage_km: int | None
    plate: str | None
    model: str | None
    customer_name: str | None
    summary: str
    voided: bool
    mileage_drop: bool  # lower than an earlier recorded mileage: suspicious
    position: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class VehicleHistory(SqliteProjection):
    name = "vehicles"
    # 2: the plate keys, the customer key, and the vehicle and customer summaries; 3: names and
    # owners from work orders and warranty registrations only (projections/customers.py)
    shape = 3
    tables = {  # noqa: RUF012
        "vehicle_records": (
            "CREATE TABLE IF NOT EXISTS vehicle_records ("
            " doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, number TEXT NOT NULL,"
            " fields TEXT NOT NULL, voided INTEGER NOT NULL DEFAULT 0,"
            " vin TEXT, business_date TEXT, position INTEGER NOT NULL,"
            " plate TEXT, plate_tail TEXT, customer_key TEXT)"
        ),
        **customers.TABLES,
    }
    indexes = (
        "CREATE INDEX IF NOT EXISTS vehicle_records_vin ON vehicle_records (vin, business_date)",
        # Clerks type the last 6 or 8 characters of a VIN (a VIN has 17).
        "CREATE INDEX IF NOT EXISTS vehicle_records_vin6 ON vehicle_records ((substr(vin, 12)))",
        "CREATE INDEX IF NOT EXISTS vehicle_records_vin8 ON vehicle_records ((substr(vin, 10)))",
        "CREATE INDEX IF NOT EXISTS vehicle_records_plate ON vehicle_records (plate)",
        "CREATE INDEX IF NOT EXISTS vehicle_records_plate_tail ON vehicle_records (plate_tail)",
        "CREATE INDEX IF NOT EXISTS vehicle_records_customer"
        " ON vehicle_records (customer_key, business_date)",
        *customers.INDEXES,
    )

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        # VINs and customers whose rows this batch changed, before and after: their
        # summaries are computed again once, at the end of the batch.
        self._touched: tuple[set[str], set[str]] = (set(), set())

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, Document.Filed):
            fields = _card_fields(event.fields)
            self._write(conn, str(event.originator_id), fields, (event, notification_id))
        elif isinstance(event, Document.Amended):
            row = conn.execute(
                "SELECT fields FROM vehicle_records WHERE doc_id = ?", (str(event.originator_id),)
            ).fetchone()
            fields = json.loads(row["fields"])
            self._touch(fields)
            for code, value in _card_fields(event.changes, keep_none=True).items():
                if value is None:
                    fields.pop(code, None)
                else:
                    fields[code] = value
            self._write(conn, str(event.originator_id), fields)
        elif isinstance(event, Document.Voided):
            row = conn.execute(
                "SELECT fields FROM vehicle_records WHERE doc_id = ?", (str(event.originator_id),)
            ).fetchone()
            self._touch(json.loads(row["fields"]))
            conn.execute(
                "UPDATE vehicle_records SET voided = 1 WHERE doc_id = ?",
                (str(event.originator_id),),
            )

    def _write(
        self,
        conn: sqlite3.Connection,
        doc_id: str,
        fields: dict[str, Any],
        filed: tuple[Any, int] | None = None,
    ) -> None:
        """The row of one document: inserted when filed, its fields replaced when amended."""
        self._touch(fields)
        plate = normalize_plate(str(fields["plate"])) if fields.get("plate") else None
        keys = (
            json.dumps(fields, ensure_ascii=False),
            fields.get("vin"),
            fields.get("business_date"),
            plate,
            plate_tail(plate) if plate else None,
            customers.customer_key(fields),
        )
        if filed is None:
            conn.execute(
                "UPDATE vehicle_records SET fields = ?, vin = ?, business_date = ?, plate = ?,"
                " plate_tail = ?, customer_key = ? WHERE doc_id = ?",
                (*keys, doc_id),
            )
            return
        event, position = filed
        conn.execute(
            "INSERT INTO vehicle_records (doc_id, kind, number, voided, position, fields, vin,"
            " business_date, plate, plate_tail, customer_key) VALUES (?,?,?,0,?,?,?,?,?,?,?)",
            (doc_id, event.kind, event.number, position, *keys),
        )

    def _touch(self, fields: dict[str, Any]) -> None:
        vins, keys = self._touched
        if fields.get("vin"):
            vins.add(str(fields["vin"]))
        if key := customers.customer_key(fields):
            keys.add(key)

    def finish_batch(self, batch: Batch, events: Sequence[tuple[int, Any]]) -> None:
        assert isinstance(batch, SqlBatch)
        vins, keys = self._touched
        self._touched = (set(), set())
        customers.refresh_vehicles(batch.conn, sorted(vins))
        customers.refresh_customers(batch.conn, sorted(keys))

    def reset(self) -> None:
        self._touched = (set(), set())
        super().reset()

    def card(self, vin: str, include_voided: bool = False) -> list[Visit]:
        """Every document for ``vin`` by business date (then filing order), mileage checked."""
        rows = self.query(
            "SELECT * FROM vehicle_records WHERE vin = ? ORDER BY business_date, position",
            (vin,),
        )
        visits: list[Visit] = []
        highest: int | None = None
        for row in rows:
            fields = json.loads(row["fields"])
            voided = bool(row["voided"])
            if voided and not include_voided:
                continue
            mileage = fields.get("mileage_km")
            drop = mileage is not None and highest is not None and mileage < highest and not voided
            if mileage is not None and not voided:
                highest = mileage if highest is None else max(highest, mileage)
            visits.append(
                Visit(
                    doc_id=row["doc_id"],
                    kind=row["kind"],
                    number=row["number"],
                    business_date=row["business_date"] or "",
                    mileage_km=mileage,
                    plate=fields.get("plate"),
                    model=fields.get("model"),
                    customer_name=fields.get("customer_name"),
                    summary=_summary(fields),
                    voided=voided,
                    mileage_drop=drop,
                    position=row["position"],
                )
            )
        return visits

    def vin_of(self, doc_id: str) -> str | None:
        rows = self.query("SELECT vin FROM vehicle_records WHERE doc_id = ?", (doc_id,))
        return rows[0]["vin"] if rows else None

    def vins_matching(self, key: str) -> list[str]:
        """The VINs a typed key names: a whole VIN, its last 6 or 8 characters, a plate with
        or without its province (any plate the car carried), or the customer's mobile."""
        key = normalize_plate(key)
        if not key:
            return []
        found = self.query(
            "SELECT vin FROM vehicle_records WHERE vin = ? OR (length(?) = 6"
            " AND substr(vin, 12) = ?) OR (length(?) = 8 AND substr(vin, 10) = ?)"
            " OR plate = ? OR plate_tail = ? OR customer_key = ?",
            (key, key, key, key, key, key, key, key),
        )
        return sorted({r["vin"] for r in found if r["vin"]})

    def vehicle(self, vin: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM vehicle_summaries WHERE vin = ?", (vin,))
        return dict(rows[0]) if rows else None

    def vehicles(self, vins: Sequence[str]) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(vins))
        rows = self.query(
            f"SELECT * FROM vehicle_summaries WHERE vin IN ({marks}) ORDER BY vin", tuple(vins)
        )
        return [dict(r) for r in rows]

    def vehicles_of(self, key: str) -> list[dict[str, Any]]:
        """Every vehicle a customer brought (the car may since belong to someone else)."""
        rows = self.query(
            "SELECT * FROM vehicle_summaries WHERE vin IN (SELECT DISTINCT vin FROM"
            " vehicle_records WHERE customer_key = ? AND voided = 0) ORDER BY vin",
            (key,),
        )
        return [dict(r) for r in rows]

    def customer(self, key: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM customer_summaries WHERE customer_key = ?", (key,))
        return dict(rows[0]) if rows else None

    def customers(
        self,
        where: str = "",
        params: tuple[Any, ...] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Customers (``where``: an SQL condition on ``customer_summaries`` built by the
        caller from fixed text, values in ``params``), last visit first; and how many."""
        sql = " FROM customer_summaries" + (f" WHERE {where}" if where else "")
        total = self.query("SELECT count(*)" + sql, params)[0][0]
        rows = self.query(
            "SELECT *" + sql + " ORDER BY last_visit_date DESC, customer_key LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return total, [dict(r) for r in rows]


def _card_fields(fields: dict[str, Any], keep_none: bool = False) -> dict[str, Any]:
    return {
        code: plain(fields[code])
        for code in (*CARD_FIELDS, *SUMMARY_FIELDS)
        if code in fields and (keep_none or fields[code] is not None)
    }


def _summary(fields: dict[str, Any]) -> str:
    return "；".join(str(fields[c]) for c in SUMMARY_FIELDS if fields.get(c))[:200]
