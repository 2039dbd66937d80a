"""Worklists: who owes which signature, and the facts deadlines are computed from.

The projection keeps, per document, a summary row (with its flags), the signatures still owed
(each with the person who owes it: the technician named on the order, the advisor, the
customer, or anyone holding the role) and the documents it names (``projections.cases``: what
follow-ups and case files are read from). Due and overdue are not stored:
``archive.queries.worklists`` computes them from these rows and today's date, so a changed rule
or a new day needs no rebuild.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any
from uuid import UUID

from events.application import ArchiveApplication
from events.document import Document
from projections.cases import document_links
from projections.catalog import KindCatalog
from projections.flags import document_flags
from projections.runner import Batch
from projections.sqlstore import SqlBatch, SqliteProjection

ANYONE = ""  # owner of a signature any holder of the role may give
CUSTOMER = "customer:"  # owner prefix of a signature the customer owes (chased by the clerk)


class Worklists(SqliteProjection):
    name = "worklists"
    # 2: filed_date on the dealership's clock (1 had the UTC date); 3: the customer's phone and
    # the plate, which the clerk needs on the callback list to make the call; 4: flags, the
    # callback's problem, a late submission, and the links between documents (issue 12); 5: a
    # refusal takes back its role's earlier signature (owed again, on the refusals list)
    shape = 5
    tables = {  # noqa: RUF012
        "wl_docs": (
            "CREATE TABLE IF NOT EXISTS wl_docs ("
            " doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, number TEXT NOT NULL,"
            " business_date TEXT, filed_date TEXT, status TEXT NOT NULL,"
            " voided INTEGER NOT NULL, submitted INTEGER NOT NULL,"
            " work_order_no TEXT, outcome TEXT, delivery_date TEXT, repair_type TEXT,"
            " return_repair INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,"
            " customer_name TEXT, departed_at TEXT, returned_at TEXT, mileage_difference INTEGER,"
            " customer_phone TEXT, plate TEXT, problem INTEGER NOT NULL DEFAULT 0,"
            " submitted_late INTEGER NOT NULL DEFAULT 0, flags TEXT NOT NULL DEFAULT '')"
        ),
        "wl_links": (
            "CREATE TABLE IF NOT EXISTS wl_links ("
            " doc_id TEXT NOT NULL, field TEXT NOT NULL, target_kind TEXT NOT NULL,"
            " target_number TEXT NOT NULL, state TEXT NOT NULL,"
            " PRIMARY KEY (doc_id, field, target_number))"
        ),
        "wl_owed": (
            "CREATE TABLE IF NOT EXISTS wl_owed ("
            " doc_id TEXT NOT NULL, role TEXT NOT NULL, owner TEXT NOT NULL,"
            " PRIMARY KEY (doc_id, role, owner))"
        ),
        "wl_refusals": (
            "CREATE TABLE IF NOT EXISTS wl_refusals ("
            " doc_id TEXT NOT NULL, role TEXT NOT NULL, refused_by TEXT NOT NULL,"
            " reason TEXT NOT NULL, refused_at TEXT NOT NULL, version INTEGER NOT NULL,"
            " PRIMARY KEY (doc_id, version))"
        ),
    }
    indexes = (
        "CREATE INDEX IF NOT EXISTS wl_owed_owner ON wl_owed (owner)",
        "CREATE INDEX IF NOT EXISTS wl_docs_kind ON wl_docs (kind, voided)",
        "CREATE INDEX IF NOT EXISTS wl_docs_number ON wl_docs (kind, number)",
        "CREATE INDEX IF NOT EXISTS wl_links_target ON wl_links (target_kind, target_number)",
    )

    def __init__(
        self, path: Path, app: ArchiveApplication, catalog: KindCatalog, tz: tzinfo
    ) -> None:
        super().__init__(path)
        self.app = app
        self.catalog = catalog
        self.tz = tz  # a PDI filed at 07:30 in Beijing was filed that day, not the day before

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        """Nothing per event: each document touched by a batch is rewritten once."""

    def finish_batch(self, batch: Batch, events: Sequence[tuple[int, Any]]) -> None:
        assert isinstance(batch, SqlBatch)
        last: dict[UUID, int] = {}
        for _, event in events:
            if isinstance(event, Document.Event):
                last[event.originator_id] = event.originator_version
        for doc_id, version in last.items():
            doc: Document = self.app.repository.get(doc_id, version=version)
            self._rewrite(batch.conn, doc)

    def _rewrite(self, conn: sqlite3.Connection, doc: Document) -> None:
        key = str(doc.id)
        for table in self.tables:
            conn.execute(f"DELETE FROM {table} WHERE doc_id = ?", (key,))
        fields = doc.fields
        required = list(self.catalog.signers(doc.kind))
        departure, back = doc.departure, doc.return_trip
        conn.execute(
            "INSERT INTO wl_docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                key,
                doc.kind,
                doc.number,
                _iso(fields.get("business_date")),
                _iso(doc.filed_at.astimezone(self.tz).date()),
                doc.status(required),
                int(doc.voided is not None),
                int(doc.submission is not None),
                fields.get("work_order_no"),
                fields.get("outcome"),
                _iso(fields.get("delivery_date")),
                fields.get("repair_type"),
                int(_is_return_repair(fields)),
                int(fields.get("closed_at") is not None),
                fields.get("customer_name"),
                departure["at"].isoformat() if departure else None,
                back["at"].isoformat() if back else None,
                doc.mileage_difference,
                fields.get("customer_phone"),
                fields.get("plate"),
                int(bool(fields.get("problem"))),
                int(bool(doc.submission and doc.submission.get("late"))),
                " ".join(document_flags(doc, self.catalog, self.tz)),
            ),
        )
        conn.executemany(
            "INSERT INTO wl_links VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
            [
                (key, link["field"], link["target_kind"], link["target_number"], link["state"])
                for link in document_links(doc, self.catalog)
            ],
        )
        if doc.voided is not None:
            return
        for role in doc.missing_roles(required):
            for owner in self._owners(doc, role):
                conn.execute(
                    "INSERT INTO wl_owed VALUES (?,?,?) ON CONFLICT DO NOTHING", (key, role, owner)
                )
            refusal = next(
                (
                    r
                    for r in reversed(doc.refusals)
                    if r.role == role and r.version > doc.content_version
                ),
                None,
            )
            if refusal is not None:
                conn.execute(
                    "INSERT INTO wl_refusals VALUES (?,?,?,?,?,?)",
                    (
                        key,
                        role,
                        refusal.signer,
                        refusal.reason,
                        refusal.refused_at.isoformat(),
                        refusal.version,
                    ),
                )

    def _owners(self, doc: Document, role: str) -> list[str]:
        if role == "customer":
            return [CUSTOMER + str(doc.fields.get("customer_name") or "")]
        owners: list[str] = []
        for code in self.catalog.signer_fields(doc.kind, role):
            value = doc.fields.get(code)
            owners.extend(value if isinstance(value, list) else [value] if value else [])
        return owners or [ANYONE]

    # -- reading ----------------------------------------------------------------------------

    def owed(
        self, owners: Sequence[str] | None = None, roles: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Signatures owed on live documents, with the document's summary: all of them, or
        only those owed by ``owners`` in ``roles`` (through the owner index)."""
        sql = "SELECT o.role, o.owner, d.* FROM wl_owed o JOIN wl_docs d USING (doc_id)"
        params: list[str] = []
        if owners is not None and roles is not None:
            sql += (
                f" WHERE o.owner IN ({','.join('?' * len(owners))})"
                f" AND o.role IN ({','.join('?' * len(roles))})"
            )
            params = [*owners, *roles]
        rows = self.query(sql + " ORDER BY d.business_date, d.kind, d.number", tuple(params))
        return [dict(r) for r in rows]

    def documents(self, kind: str, include_voided: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM wl_docs WHERE kind = ?"
        if not include_voided:
            sql += " AND voided = 0"
        return [dict(r) for r in self.query(sql + " ORDER BY business_date, number", (kind,))]

    def document(self, kind: str, number: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM wl_docs WHERE kind = ? AND number = ?", (kind, number))
        return dict(rows[0]) if rows else None

    def naming(self, kind: str, number: str) -> list[dict[str, Any]]:
        """The documents that name this one (voided ones too), each with the link by which
        it does: ``field`` and ``state``."""
        rows = self.query(
            "SELECT l.field, l.state, d.* FROM wl_links l JOIN wl_docs d USING (doc_id)"
            " WHERE l.target_kind = ? AND l.target_number = ?"
            " ORDER BY d.business_date, d.kind, d.number",
            (kind, number),
        )
        return [dict(r) for r in rows]

    def named_by_kind(self, kind: str, field: str, target_kind: str) -> list[dict[str, Any]]:
        """Live documents of ``kind`` naming a ``target_kind`` in ``field``, with the number
        they name (``target_number``): which callbacks answer which orders, for example."""
        rows = self.query(
            "SELECT l.target_number, l.state, d.* FROM wl_links l JOIN wl_docs d USING (doc_id)"
            " WHERE d.kind = ? AND d.voided = 0 AND l.field = ? AND l.target_kind = ?",
            (kind, field, target_kind),
        )
        return [dict(r) for r in rows]

    def refusals(self) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT r.*, d.kind, d.number, d.business_date FROM wl_refusals r "
            "JOIN wl_docs d USING (doc_id) ORDER BY r.refused_at"
        )
        return [dict(r) for r in rows]


def _is_return_repair(fields: dict[str, Any]) -> bool:
    return bool(fields.get("return_repair")) or fields.get("repair_type") == "return_repair"


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None
