"""Which documents took each stored file as a scan: the blob store also holds files no
document took (an upload whose command was then refused), and those are nobody's to read.

One row per (file, document) the first time the document took it. Attachments never go away:
a withdrawn scan stays in the history, and stays readable.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from events.document import Document
from projections.sqlstore import SqliteProjection


@dataclass(frozen=True)
class AttachedScan:
    sha256: str
    doc_id: str
    media_type: str
    filename: str


class ScanIndex(SqliteProjection):
    name = "scans"
    tables = {  # noqa: RUF012
        "attached_scans": (
            "CREATE TABLE IF NOT EXISTS attached_scans ("
            " sha256 TEXT NOT NULL, doc_id TEXT NOT NULL, media_type TEXT NOT NULL,"
            " filename TEXT NOT NULL, position INTEGER NOT NULL,"
            " PRIMARY KEY (sha256, doc_id))"
        ),
    }

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        if isinstance(event, Document.ScanAttached):
            conn.execute(
                "INSERT INTO attached_scans VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    event.sha256,
                    str(event.originator_id),
                    event.media_type,
                    event.filename,
                    notification_id,
                ),
            )

    def first_attached(self, sha256: str) -> AttachedScan | None:
        """The file as the first document that took it named it, or ``None``."""
        rows = self.query(
            "SELECT sha256, doc_id, media_type, filename FROM attached_scans"
            " WHERE sha256 = ? ORDER BY position LIMIT 1",
            (sha256,),
        )
        return AttachedScan(**dict(rows[0])) if rows else None
