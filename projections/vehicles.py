"""The vehicle history card (车历卡): everything recorded for one VIN, in date order.

Nobody files a history card by hand; it is this projection. One row per document that names
a VIN, kept current from the document's own events (no aggregate is loaded).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from events.canonical import plain
from events.document import Document
from projections.sqlstore import SqliteProjection

# Fields copied onto the card, and the text that summarises a visit.
CARD_FIELDS = ("vin", "plate", "model", "mileage_km", "business_date", "customer_name")
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
    tables = {  # noqa: RUF012
        "vehicle_records": (
            "CREATE TABLE IF NOT EXISTS vehicle_records ("
            " doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, number TEXT NOT NULL,"
            " fields TEXT NOT NULL, voided INTEGER NOT NULL DEFAULT 0,"
            " vin TEXT, business_date TEXT, position INTEGER NOT NULL)"
        ),
    }
    indexes = (
        "CREATE INDEX IF NOT EXISTS vehicle_records_vin ON vehicle_records (vin, business_date)",
    )

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, Document.Filed):
            fields = _card_fields(event.fields)
            conn.execute(
                "INSERT INTO vehicle_records VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                (
                    str(event.originator_id),
                    event.kind,
                    event.number,
                    json.dumps(fields, ensure_ascii=False),
                    fields.get("vin"),
                    fields.get("business_date"),
                    notification_id,
                ),
            )
        elif isinstance(event, Document.Amended):
            row = conn.execute(
                "SELECT fields FROM vehicle_records WHERE doc_id = ?", (str(event.originator_id),)
            ).fetchone()
            fields = json.loads(row["fields"])
            for code, value in _card_fields(event.changes, keep_none=True).items():
                if value is None:
                    fields.pop(code, None)
                else:
                    fields[code] = value
            conn.execute(
                "UPDATE vehicle_records SET fields = ?, vin = ?, business_date = ? "
                "WHERE doc_id = ?",
                (
                    json.dumps(fields, ensure_ascii=False),
                    fields.get("vin"),
                    fields.get("business_date"),
                    str(event.originator_id),
                ),
            )
        elif isinstance(event, Document.Voided):
            conn.execute(
                "UPDATE vehicle_records SET voided = 1 WHERE doc_id = ?",
                (str(event.originator_id),),
            )

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


def _card_fields(fields: dict[str, Any], keep_none: bool = False) -> dict[str, Any]:
    return {
        code: plain(fields[code])
        for code in (*CARD_FIELDS, *SUMMARY_FIELDS)
        if code in fields and (keep_none or fields[code] is not None)
    }


def _summary(fields: dict[str, Any]) -> str:
    return "；".join(str(fields[c]) for c in SUMMARY_FIELDS if fields.get(c))[:200]
