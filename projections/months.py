"""Month volumes: each month's documents (by business date), their status, and what keeps the
month from closing; the volumes sealed so far and which documents changed after their seal.

One row per document, kept current from the document's own events (no aggregate is loaded):
who has signed the current version, which scans are active, submission, voiding. A signature
counts for the current version when it came after the last filing or amendment and no refusal
in its role came after it: a ``Signed`` event records the hash of the content it signed, and
until the next amendment that is the current content (the rule ``Document.current_signatures``
applies). A drawn signature's image is not the paper's scan (``paper_scan_hashes``).

A document belongs to one volume at most. When it changes after its volume was sealed, the
sealed volume keeps the sealed version and hash, and the row says what changed since.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from events.canonical import plain
from events.document import Document, document_status
from events.document_state import paper_scan_hashes
from events.volume import MonthVolume
from projections.closing import Blocker, ClosingCatalog, document_blockers
from projections.sqlstore import SqliteProjection

# What changed in a sealed document since its seal (codes; ``archive`` words them).
AMENDED = "amended"  # its content changed: the volume holds the older content
VOIDED = "voided"  # voided after the seal
UPDATED = "updated"  # signed, scanned or submitted after the seal; the content is the same


@dataclass(frozen=True)
class MonthDocument:
    doc_id: str
    kind: str
    number: str
    month: str | None
    business_date: str | None
    version: int
    content_version: int
    status: str
    missing_roles: tuple[str, ...]
    blockers: tuple[Blocker, ...]
    voided_version: int | None
    sealed_month: str | None
    supplement: int | None
    sealed_version: int | None
    sealed_hash: str | None
    # Submitted to the service centre now (a withdrawn submission is not), and whether that
    # submission came after its deadline: the month page lists unsubmitted claims apart.
    submitted: bool = False
    late_submission: bool = False

    @property
    def sealed(self) -> bool:
        return self.supplement is not None

    def changes_since_seal(self) -> list[str]:
        if self.sealed_version is None or self.version == self.sealed_version:
            return []
        changes = []
        if self.content_version > self.sealed_version:
            changes.append(AMENDED)
        if self.voided_version is not None and self.voided_version > self.sealed_version:
            changes.append(VOIDED)
        return changes or [UPDATED]


@dataclass(frozen=True)
class SealedVolumeRow:
    volume_id: str
    month: str
    supplement: int
    sealed_at: str  # ISO, UTC
    sealed_by: str
    list_hash: str
    documents: int
    forced_reason: str | None


class MonthVolumes(SqliteProjection):
    name = "months"
    # 2: whether a submission was late, and submissions withdrawn (issue 12); 3: a refusal
    # takes back its role's signature, and signatures' images are not the paper's scan
    shape = 3
    tables = {  # noqa: RUF012
        "month_documents": (
            "CREATE TABLE IF NOT EXISTS month_documents ("
            " doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, number TEXT NOT NULL,"
            " month TEXT, business_date TEXT, version INTEGER NOT NULL,"
            " content_version INTEGER NOT NULL, signed_roles TEXT NOT NULL,"
            " active_scans TEXT NOT NULL, submitted INTEGER NOT NULL,"
            " voided_version INTEGER, status TEXT NOT NULL, missing_roles TEXT NOT NULL,"
            " blockers TEXT NOT NULL, sealed_month TEXT, supplement INTEGER,"
            " sealed_version INTEGER, sealed_hash TEXT,"
            " late_submission INTEGER NOT NULL DEFAULT 0,"
            " signature_images TEXT NOT NULL DEFAULT '[]',"
            " scan_labels TEXT NOT NULL DEFAULT '{}')"
        ),
        "month_volumes": (
            "CREATE TABLE IF NOT EXISTS month_volumes ("
            " volume_id TEXT PRIMARY KEY, month TEXT NOT NULL, supplement INTEGER NOT NULL,"
            " sealed_at TEXT NOT NULL, sealed_by TEXT NOT NULL, list_hash TEXT NOT NULL,"
            " documents INTEGER NOT NULL, forced_reason TEXT)"
        ),
    }
    indexes = (
        "CREATE INDEX IF NOT EXISTS month_documents_month ON month_documents (month)",
        "CREATE INDEX IF NOT EXISTS month_documents_sealed ON month_documents (sealed_month)",
    )

    def __init__(self, path: Path, catalog: ClosingCatalog) -> None:
        super().__init__(path)
        self.catalog = catalog

    # -- following the log ------------------------------------------------------------------

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, MonthVolume.Sealed):
            self._sealed(conn, event)
            return
        if isinstance(event, Document.Filed):
            business_date = plain(event.fields.get("business_date"))
            row: dict[str, Any] = {
                "doc_id": str(event.originator_id),
                "kind": event.kind,
                "number": event.number,
                "business_date": business_date,
                "month": business_date[:7] if business_date else None,
                "content_version": event.originator_version,
                "signed_roles": [],
                "active_scans": [],
                "signature_images": [],
                "scan_labels": {},
                "submitted": False,
                "late_submission": False,
                "voided_version": None,
            }
        elif isinstance(event, Document.Event):
            loaded = self._load(conn, str(event.originator_id))
            if loaded is None:
                return
            row = loaded
            self._change(row, event)
        else:
            return
        row["version"] = event.originator_version
        self._save(conn, row)

    @staticmethod
    def _change(row: dict[str, Any], event: Any) -> None:
        if isinstance(event, Document.Amended):
            if "business_date" in event.changes:
                business_date = plain(event.changes["business_date"])
                row["business_date"] = business_date
                row["month"] = business_date[:7] if business_date else None
            # Signatures made before the amendment signed other content: they lapse.
            row["content_version"] = event.originator_version
            row["signed_roles"] = []
        elif isinstance(event, Document.Signed):
            row["signed_roles"].append(event.role)
            if event.image_sha256:
                row["signature_images"].append(event.image_sha256)
        elif isinstance(event, Document.SignatureRefused):
            # The role's earlier signature no longer counts; one made after the refusal will.
            row["signed_roles"] = [r for r in row["signed_roles"] if r != event.role]
        elif isinstance(event, Document.ScanAttached):
            row["active_scans"].append(event.sha256)
            row["scan_labels"][event.sha256] = event.label
        elif isinstance(event, Document.ScanWithdrawn):
            row["active_scans"].remove(event.sha256)
        elif isinstance(event, Document.Submitted):
            row["submitted"] = True
            row["late_submission"] = bool(event.late)
        elif isinstance(event, Document.SubmissionWithdrawn):
            row["submitted"] = row["late_submission"] = False
        elif isinstance(event, Document.Voided):
            row["voided_version"] = event.originator_version

    def _load(self, conn: sqlite3.Connection, doc_id: str) -> dict[str, Any] | None:
        found = conn.execute(
            "SELECT doc_id, kind, number, month, business_date, content_version, signed_roles,"
            " active_scans, signature_images, scan_labels, submitted, late_submission,"
            " voided_version FROM month_documents WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        if found is None:
            return None
        row = dict(found)
        row["signed_roles"] = json.loads(row["signed_roles"])
        row["active_scans"] = json.loads(row["active_scans"])
        row["signature_images"] = json.loads(row["signature_images"])
        row["scan_labels"] = json.loads(row["scan_labels"])
        row["submitted"] = bool(row["submitted"])
        row["late_submission"] = bool(row["late_submission"])
        return row

    def _save(self, conn: sqlite3.Connection, row: dict[str, Any]) -> None:
        signed = set(row["signed_roles"])
        missing = [r for r in self.catalog.signers(row["kind"]) if r not in signed]
        voided = row["voided_version"] is not None
        blockers = document_blockers(
            self.catalog,
            doc_id=row["doc_id"],
            kind=row["kind"],
            number=row["number"],
            voided=voided,
            missing_roles=missing,
            has_active_scan=bool(
                paper_scan_hashes(
                    [(sha, row["scan_labels"].get(sha, "")) for sha in row["active_scans"]],
                    row["signature_images"],
                )
            ),
            submitted=row["submitted"],
        )
        conn.execute(
            "INSERT INTO month_documents (doc_id, kind, number, month, business_date, version,"
            " content_version, signed_roles, active_scans, submitted, voided_version, status,"
            " missing_roles, blockers, late_submission, signature_images, scan_labels)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (doc_id) DO UPDATE SET month = excluded.month,"
            " business_date = excluded.business_date, version = excluded.version,"
            " content_version = excluded.content_version, signed_roles = excluded.signed_roles,"
            " active_scans = excluded.active_scans, submitted = excluded.submitted,"
            " voided_version = excluded.voided_version, status = excluded.status,"
            " missing_roles = excluded.missing_roles, blockers = excluded.blockers,"
            " late_submission = excluded.late_submission,"
            " signature_images = excluded.signature_images,"
            " scan_labels = excluded.scan_labels",
            (
                row["doc_id"],
                row["kind"],
                row["number"],
                row["month"],
                row["business_date"],
                row["version"],
                row["content_version"],
                json.dumps(row["signed_roles"]),
                json.dumps(row["active_scans"]),
                int(row["submitted"]),
                row["voided_version"],
                document_status(voided, missing, row["submitted"]),
                json.dumps(missing),
                json.dumps([[b.code, list(b.roles)] for b in blockers]),
                int(row["late_submission"]),
                json.dumps(row["signature_images"]),
                json.dumps(row["scan_labels"], ensure_ascii=False),
            ),
        )

    @staticmethod
    def _sealed(conn: sqlite3.Connection, event: Any) -> None:
        conn.execute(
            "INSERT INTO month_volumes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                event.month,
                event.supplement,
                event.timestamp.isoformat(),
                event.actor,
                event.list_hash,
                len(event.entries),
                event.forced_reason,
            ),
        )
        conn.executemany(
            "UPDATE month_documents SET sealed_month = ?, supplement = ?, sealed_version = ?,"
            " sealed_hash = ? WHERE doc_id = ?",
            [
                (event.month, event.supplement, e["version"], e["content_hash"], e["id"])
                for e in event.entries
            ],
        )

    # -- reading ----------------------------------------------------------------------------

    def documents(self, month: str) -> list[MonthDocument]:
        """The month's documents by current business date, and those sealed in its volumes."""
        rows = self.query(
            "SELECT * FROM month_documents WHERE month = ? OR sealed_month = ?"
            " ORDER BY kind, number",
            (month, month),
        )
        return [_document(r) for r in rows]

    def unsealed(self, month: str) -> list[MonthDocument]:
        """Documents of the month in no sealed volume yet: the next volume's candidates."""
        rows = self.query(
            "SELECT * FROM month_documents WHERE month = ? AND supplement IS NULL"
            " ORDER BY kind, number",
            (month,),
        )
        return [_document(r) for r in rows]

    def unsubmitted(self, month: str) -> list[MonthDocument]:
        """The month's live documents of submittable kinds not submitted now (a withdrawn
        submission included): listed apart on the month page, left out of the fee summary."""
        kinds = [k for k in self.catalog.submit_days() if self.catalog.submittable(k)]
        if not kinds:
            return []
        rows = self.query(
            f"SELECT * FROM month_documents WHERE month = ? AND submitted = 0"
            f" AND voided_version IS NULL AND kind IN ({','.join('?' * len(kinds))})"
            " ORDER BY kind, number",
            (month, *kinds),
        )
        return [_document(r) for r in rows]

    def volumes(self, month: str) -> list[SealedVolumeRow]:
        rows = self.query(
            "SELECT * FROM month_volumes WHERE month = ? ORDER BY supplement", (month,)
        )
        return [SealedVolumeRow(**dict(r)) for r in rows]

    def months(self) -> list[str]:
        rows = self.query(
            "SELECT DISTINCT month FROM month_documents WHERE month IS NOT NULL ORDER BY month"
        )
        return [r["month"] for r in rows]


def _document(row: sqlite3.Row) -> MonthDocument:
    blockers = tuple(
        Blocker(row["doc_id"], row["kind"], row["number"], code, tuple(roles))
        for code, roles in json.loads(row["blockers"])
    )
    return MonthDocument(
        doc_id=row["doc_id"],
        kind=row["kind"],
        number=row["number"],
        month=row["month"],
        business_date=row["business_date"],
        version=row["version"],
        content_version=row["content_version"],
        status=row["status"],
        missing_roles=tuple(json.loads(row["missing_roles"])),
        blockers=blockers,
        voided_version=row["voided_version"],
        sealed_month=row["sealed_month"],
        supplement=row["supplement"],
        sealed_version=row["sealed_version"],
        sealed_hash=row["sealed_hash"],
        submitted=bool(row["submitted"]),
        late_submission=bool(row["late_submission"]),
    )
