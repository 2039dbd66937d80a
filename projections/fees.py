"""Service fees: each warranty claim's fee and whether it is submitted, and each month's invoice.

What counts as a month's service fee (服务费用数额) is said once, here: the live warranty claims
of the month (by business date) that stand submitted to the service centre, each with its
``service_fee`` (:func:`claim_fee`). The return binding's fee summary
(``archive.bundle.bindings.fee_summary``) and the service-fee report both use it.

One row per warranty claim, kept current from the claim's own events (no aggregate is loaded),
and one row per month whose invoice was requested (``events.fees.ServiceFeeMonth``).
Amounts are stored as INTEGER fen, exact.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from events.canonical import plain
from events.document import Document
from events.fees import ServiceFeeMonth
from projections.sqlstore import SqliteProjection

FEE_KIND = "warranty_claim"  # the only paper the service centre pays a fee for


def claim_fee(fields: dict[str, Any]) -> Decimal:
    """A warranty claim's service fee in yuan (0 when the field is empty)."""
    return Decimal(str(plain(fields.get("service_fee")) or "0"))


def to_fen(yuan: Decimal | str) -> int:
    return int((Decimal(str(yuan)) * 100).to_integral_value())


def to_yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class MonthFee:
    """One month's submitted claims summed."""

    month: str
    claims: int
    fee: Decimal


class ServiceFees(SqliteProjection):
    name = "fees"
    tables = {  # noqa: RUF012
        "fee_claims": (
            "CREATE TABLE IF NOT EXISTS fee_claims ("
            " doc_id TEXT PRIMARY KEY, number TEXT NOT NULL, month TEXT,"
            " business_date TEXT, work_order_no TEXT, vin TEXT, labour_hours TEXT,"
            " parts INTEGER NOT NULL DEFAULT 0, fee_fen INTEGER NOT NULL DEFAULT 0,"
            " submitted INTEGER NOT NULL DEFAULT 0, claim_no TEXT, submitted_on TEXT,"
            " voided INTEGER NOT NULL DEFAULT 0)"
        ),
        "fee_invoices": (
            "CREATE TABLE IF NOT EXISTS fee_invoices ("
            " month TEXT PRIMARY KEY, fee_id TEXT NOT NULL, requested_on TEXT, requested_by TEXT,"
            " requested_fen INTEGER, computed_fen INTEGER, computed_claims INTEGER,"
            " note TEXT, requests INTEGER NOT NULL DEFAULT 0, received_on TEXT,"
            " invoice_no TEXT, received_fen INTEGER, received_by TEXT,"
            " receipts INTEGER NOT NULL DEFAULT 0, last_reason TEXT)"
        ),
    }
    indexes = (
        "CREATE INDEX IF NOT EXISTS fee_claims_date ON fee_claims (business_date)",
        "CREATE INDEX IF NOT EXISTS fee_claims_month ON fee_claims (month, submitted, voided)",
        "CREATE INDEX IF NOT EXISTS fee_invoices_id ON fee_invoices (fee_id)",
    )

    def __init__(self, path: Path, tz: tzinfo) -> None:
        super().__init__(path)
        self.tz = tz  # a claim submitted at 00:30 in Beijing was submitted that day

    # -- following the log ------------------------------------------------------------------

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, ServiceFeeMonth.Event):
            self._invoice(conn, event)
        elif isinstance(event, Document.Filed):
            if event.kind == FEE_KIND:
                conn.execute(
                    "INSERT INTO fee_claims (doc_id, number) VALUES (?, ?)"
                    " ON CONFLICT (doc_id) DO NOTHING",
                    (str(event.originator_id), event.number),
                )
                self._fields(conn, str(event.originator_id), event.fields)
        elif isinstance(event, Document.Event):
            self._claim_change(conn, str(event.originator_id), event)

    def _claim_change(self, conn: sqlite3.Connection, doc_id: str, event: Any) -> None:
        if isinstance(event, Document.Amended):
            found = conn.execute("SELECT 1 FROM fee_claims WHERE doc_id = ?", (doc_id,))
            if found.fetchone() is not None:
                self._fields(conn, doc_id, event.changes, amended=True)
        elif isinstance(event, Document.Submitted):
            on = event.timestamp.astimezone(self.tz).date().isoformat()
            conn.execute(
                "UPDATE fee_claims SET submitted = 1, claim_no = ?, submitted_on = ?"
                " WHERE doc_id = ?",
                (event.claim_no, on, doc_id),
            )
        elif isinstance(event, Document.SubmissionWithdrawn):
            conn.execute(
                "UPDATE fee_claims SET submitted = 0, claim_no = NULL, submitted_on = NULL"
                " WHERE doc_id = ?",
                (doc_id,),
            )
        elif isinstance(event, Document.Voided):
            conn.execute("UPDATE fee_claims SET voided = 1 WHERE doc_id = ?", (doc_id,))

    @staticmethod
    def _fields(
        conn: sqlite3.Connection, doc_id: str, fields: dict[str, Any], amended: bool = False
    ) -> None:
        """Store the columns ``fields`` gives (an amendment gives only what changed; a value
        of None there removes the field)."""
        values: dict[str, Any] = {}
        if "business_date" in fields or not amended:
            day = plain(fields.get("business_date"))
            values["business_date"] = day
            values["month"] = day[:7] if day else None
        for field in ("work_order_no", "vin", "labour_hours"):
            if field in fields or not amended:
                values[field] = plain(fields.get(field))
        if "parts" in fields or not amended:
            lines = plain(fields.get("parts")) or []
            values["parts"] = sum(int(line.get("qty") or 0) for line in lines)
        if "service_fee" in fields or not amended:
            values["fee_fen"] = to_fen(claim_fee(fields))
        if values:
            sets = ", ".join(f"{column} = ?" for column in values)
            conn.execute(
                f"UPDATE fee_claims SET {sets} WHERE doc_id = ?", (*values.values(), doc_id)
            )

    def _invoice(self, conn: sqlite3.Connection, event: Any) -> None:
        if isinstance(event, ServiceFeeMonth.Opened):
            conn.execute(
                "INSERT INTO fee_invoices (month, fee_id) VALUES (?, ?)"
                " ON CONFLICT (month) DO NOTHING",
                (event.month, str(event.originator_id)),
            )
            return
        fee_id = str(event.originator_id)
        if isinstance(event, ServiceFeeMonth.InvoiceRequested):
            conn.execute(
                "UPDATE fee_invoices SET requested_on = ?, requested_by = ?, requested_fen = ?,"
                " computed_fen = ?, computed_claims = ?, note = ?, requests = requests + 1,"
                " last_reason = coalesce(?, last_reason) WHERE fee_id = ?",
                (
                    event.timestamp.astimezone(self.tz).date().isoformat(),
                    event.actor,
                    to_fen(event.amount),
                    to_fen(event.computed),
                    event.claims,
                    event.note,
                    event.reason,
                    fee_id,
                ),
            )
        elif isinstance(event, ServiceFeeMonth.InvoiceReceived):
            conn.execute(
                "UPDATE fee_invoices SET received_on = ?, invoice_no = ?, received_fen = ?,"
                " received_by = ?, receipts = receipts + 1,"
                " last_reason = coalesce(?, last_reason) WHERE fee_id = ?",
                (
                    event.received_on,
                    event.invoice_no,
                    to_fen(event.amount),
                    event.actor,
                    event.reason,
                    fee_id,
                ),
            )

    # -- reading ----------------------------------------------------------------------------

    def submitted_claims(self, start: str, end: str) -> list[sqlite3.Row]:
        """The live submitted claims of business dates ``start`` <= d < ``end``, by date."""
        return self.query(
            "SELECT * FROM fee_claims WHERE business_date >= ? AND business_date < ?"
            " AND submitted = 1 AND voided = 0 ORDER BY business_date, number",
            (start, end),
        )

    def unsubmitted_count(self, start: str, end: str) -> int:
        rows = self.query(
            "SELECT count(*) AS n FROM fee_claims WHERE business_date >= ?"
            " AND business_date < ? AND submitted = 0 AND voided = 0",
            (start, end),
        )
        return int(rows[0]["n"])

    def month_fees(self, start: str, end: str) -> dict[str, MonthFee]:
        """Each month's submitted claims and their fees, business dates in [start, end)."""
        rows = self.query(
            "SELECT month, count(*) AS claims, coalesce(sum(fee_fen), 0) AS fen"
            " FROM fee_claims WHERE business_date >= ? AND business_date < ?"
            " AND submitted = 1 AND voided = 0 GROUP BY month",
            (start, end),
        )
        return {
            r["month"]: MonthFee(r["month"], int(r["claims"]), to_yuan(int(r["fen"])) or Decimal())
            for r in rows
        }

    def month_fee(self, month: str) -> MonthFee:
        start, end = f"{month}-01", f"{month}-32"  # every 'YYYY-MM-DD' of the month sorts inside
        return self.month_fees(start, end).get(month) or MonthFee(month, 0, Decimal("0.00"))

    def invoices(self, first: str, last: str) -> dict[str, sqlite3.Row]:
        """The invoice rows of months ``first`` to ``last`` ('YYYY-MM', both included)."""
        rows = self.query(
            "SELECT * FROM fee_invoices WHERE month >= ? AND month <= ? ORDER BY month",
            (first, last),
        )
        return {r["month"]: r for r in rows}

    def claim_months(self) -> list[str]:
        """Months with a live submitted claim, oldest first."""
        rows = self.query(
            "SELECT DISTINCT month FROM fee_claims WHERE submitted = 1 AND voided = 0"
            " AND month IS NOT NULL ORDER BY month"
        )
        return [r["month"] for r in rows]
