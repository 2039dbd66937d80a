"""Daily reports (日报) as the 日报 report reads them: each filed report's day, lines, count of
orders and revenue, so a month's view is one query and never a replay of 30 aggregates.

Whether a report is signed by the service manager is not kept here: the worklists projection
already says which signatures are owed (``wl_owed``). Voided reports keep their row, marked
``voided = 1``; the report skips them.
"""

from __future__ import annotations

import json
from typing import Any

from events.canonical import plain
from events.document import Document
from projections.sqlstore import SqliteProjection

KIND = "daily_report"
_KEPT = ("business_date", "lines", "work_order_count", "revenue")


class DailyReports(SqliteProjection):
    name = "daily_reports"
    shape = 1
    tables = {  # noqa: RUF012
        "dr_reports": (
            "CREATE TABLE IF NOT EXISTS dr_reports ("
            " doc_id TEXT PRIMARY KEY, number TEXT NOT NULL, business_date TEXT,"
            " voided INTEGER NOT NULL DEFAULT 0, work_order_count INTEGER,"
            " revenue TEXT, lines TEXT NOT NULL DEFAULT '[]')"
        ),
    }
    indexes = ("CREATE INDEX IF NOT EXISTS dr_reports_date ON dr_reports (business_date)",)

    def apply(self, conn: Any, notification_id: int, event: Any) -> None:
        key = str(event.originator_id)
        if isinstance(event, Document.Filed):
            if event.kind == KIND:
                conn.execute(
                    "INSERT INTO dr_reports (doc_id, number) VALUES (?, ?)"
                    " ON CONFLICT (doc_id) DO NOTHING",
                    (key, event.number),
                )
                self._update(conn, key, event.fields)
        elif isinstance(event, Document.Amended):
            self._update(conn, key, event.changes)  # no row: not a daily report, no change
        elif isinstance(event, Document.Voided):
            conn.execute("UPDATE dr_reports SET voided = 1 WHERE doc_id = ?", (key,))

    def _update(self, conn: Any, key: str, fields: dict[str, Any]) -> None:
        values = {code: plain(fields[code]) for code in _KEPT if code in fields}
        if "lines" in values:
            values["lines"] = json.dumps(values["lines"] or [], ensure_ascii=False)
        if not values:
            return
        sets = ", ".join(f"{code} = ?" for code in values)
        conn.execute(f"UPDATE dr_reports SET {sets} WHERE doc_id = ?", (*values.values(), key))

    def reports(self, start: str, end: str) -> list[dict[str, Any]]:
        """Live reports with business dates in [start, end), by date and number; ``lines``
        decoded."""
        rows = self.query(
            "SELECT * FROM dr_reports WHERE business_date >= ? AND business_date < ?"
            " AND voided = 0 ORDER BY business_date, number",
            (start, end),
        )
        found = []
        for row in rows:
            entry = dict(row)
            entry["lines"] = json.loads(row["lines"] or "[]")
            found.append(entry)
        return found
