"""Callbacks and quick-handling forms as the callback reports read them.

One row per callback (回访记录): its outcome, whether the customer had a problem, his words and
each questionnaire score (one row per answered item in ``cb_scores``, so an average counts
exactly the callbacks that answered that item). One row per quick-handling form (快速处理表):
source, department at fault, action, result, when it closed and whether the service manager's
signature is on its current version. One row per paper a callback answers (work orders,
warranty registrations): the date its callback is due from and the person who served the
customer (the order's service advisor; the registration's sales consultant). Each callback and
each of its scores carries that person (``person``, ``person_role``), set again whenever the
paper it names is filed or amended, so an amended order's advisor is the one reports show and
a report reads one table. A score row also says whether it ``counts``: its callback is live and
reached the customer. The counted scores are also kept added up by day, person and item
(``cb_score_days``), so a year's averages read a few thousand rows, not every answer. Voided
papers keep their row, marked ``voided = 1``; reports skip them.

Each touched paper is rewritten from its aggregate once per batch (the signature on the current
version needs the aggregate's own reading of signatures and refusals).
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
from projections.runner import Batch
from projections.sqlstore import SqlBatch, SqliteProjection

CALLBACK = "callback"
QUICK_HANDLING = "quick_handling"
# The papers a callback names (work_order_no, registration_no) and the person each names.
ANSWERED_KINDS = {"work_order": "service_advisor", "warranty_registration": "sales_consultant"}
# The callback's field naming each of them.
LINK_FIELDS = {"work_order": "work_order_no", "warranty_registration": "registration_no"}
REACHED = "reached"  # the outcome whose answers count in averages
MANAGER = "service_manager"  # the quick-handling form's signer
SCORE_PREFIX = "score_"  # the questionnaire's 1-5 items (archive/kinds/registry.py)

_CALLBACK_COLUMNS = (
    "number",
    "business_date",
    "called_at",
    "outcome",
    "advisor_explained",
    "customer_name",
    "customer_phone",
    "customer_words",
    "problem",
    "quick_handling_no",
    "work_order_no",
    "registration_no",
    "person",
    "person_role",
    "voided",
)
_SCORE_COLUMNS = ("item", "score", "business_date", "counts", "person", "person_role")
_FORM_COLUMNS = (
    "number",
    "business_date",
    "source",
    "source_no",
    "work_order_no",
    "customer_name",
    "customer_phone",
    "department_at_fault",
    "description",
    "action",
    "result",
    "customer_reaction",
    "return_repair",
    "closed_at",
    "manager_signed",
    "voided",
)
_PAPER_COLUMNS = (
    "kind",
    "number",
    "business_date",
    "delivery_date",
    "person",
    "customer_name",
    "customer_phone",
    "plate",
    "voided",
)


def _create(table: str, columns: Sequence[str], types: dict[str, str]) -> str:
    body = ", ".join(f"{c} {types.get(c, 'TEXT')}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (doc_id TEXT PRIMARY KEY, {body})"


_INTS = {"voided": "INTEGER NOT NULL", "problem": "INTEGER NOT NULL"}


class CallbackReports(SqliteProjection):
    name = "callbacks"
    # 2: the person on each callback and score row, and the scores' date and whether they count;
    # 3: the counted scores added up by day (cb_score_days)
    shape = 3
    tables = {  # noqa: RUF012
        "cb_callbacks": _create(
            "cb_callbacks", _CALLBACK_COLUMNS, {**_INTS, "advisor_explained": "INTEGER"}
        ),
        "cb_scores": (
            "CREATE TABLE IF NOT EXISTS cb_scores (doc_id TEXT NOT NULL, item TEXT NOT NULL,"
            " score INTEGER NOT NULL, business_date TEXT, counts INTEGER NOT NULL,"
            " person TEXT, person_role TEXT, PRIMARY KEY (doc_id, item))"
        ),
        # Counted scores added up; no person is '' (a key column is never NULL).
        "cb_score_days": (
            "CREATE TABLE IF NOT EXISTS cb_score_days (business_date TEXT NOT NULL,"
            " person TEXT NOT NULL, person_role TEXT NOT NULL, item TEXT NOT NULL,"
            " total INTEGER NOT NULL, n INTEGER NOT NULL,"
            " PRIMARY KEY (business_date, person, person_role, item))"
        ),
        "cb_forms": _create(
            "cb_forms",
            _FORM_COLUMNS,
            {
                "voided": "INTEGER NOT NULL",
                "return_repair": "INTEGER NOT NULL",
                "manager_signed": "INTEGER NOT NULL",
            },
        ),
        "cb_papers": _create("cb_papers", _PAPER_COLUMNS, {"voided": "INTEGER NOT NULL"}),
    }
    indexes = (
        "CREATE INDEX IF NOT EXISTS cb_callbacks_date ON cb_callbacks (business_date)",
        "CREATE INDEX IF NOT EXISTS cb_callbacks_order ON cb_callbacks (work_order_no)",
        "CREATE INDEX IF NOT EXISTS cb_callbacks_registration ON cb_callbacks (registration_no)",
        # Counting a month's or a year's callbacks by person and outcome reads this index alone.
        "CREATE INDEX IF NOT EXISTS cb_callbacks_counts ON cb_callbacks"
        " (voided, business_date, person, person_role, outcome, advisor_explained)",
        "CREATE INDEX IF NOT EXISTS cb_forms_date ON cb_forms (business_date)",
        "CREATE INDEX IF NOT EXISTS cb_forms_source ON cb_forms (source_no)",
        "CREATE INDEX IF NOT EXISTS cb_forms_number ON cb_forms (number)",
        "CREATE INDEX IF NOT EXISTS cb_papers_number ON cb_papers (kind, number)",
        "CREATE INDEX IF NOT EXISTS cb_papers_date ON cb_papers (kind, business_date)",
        "CREATE INDEX IF NOT EXISTS cb_papers_delivery ON cb_papers (kind, delivery_date)",
    )

    def __init__(self, path: Path, app: ArchiveApplication, tz: tzinfo) -> None:
        super().__init__(path)
        self.app = app
        self.tz = tz  # a form closed at 00:30 Beijing time closed that day
        self._touched: dict[UUID, int] = {}

    def apply(self, conn: sqlite3.Connection, notification_id: int, event: Any) -> None:
        """Note the papers of the four kinds this batch touched; ``finish_batch`` rewrites
        each once."""
        if not isinstance(event, Document.Event):
            return
        if isinstance(event, Document.Filed):
            ours = event.kind in (CALLBACK, QUICK_HANDLING, *ANSWERED_KINDS)
        else:
            ours = event.originator_id in self._touched or self._known(conn, event.originator_id)
        if ours:
            self._touched[event.originator_id] = event.originator_version

    def _known(self, conn: sqlite3.Connection, doc_id: UUID) -> bool:
        key = (str(doc_id),)
        return any(
            conn.execute(f"SELECT 1 FROM {table} WHERE doc_id = ?", key).fetchone()
            for table in ("cb_callbacks", "cb_forms", "cb_papers")
        )

    def finish_batch(self, batch: Batch, events: Sequence[tuple[int, Any]]) -> None:
        assert isinstance(batch, SqlBatch)
        touched, self._touched = self._touched, {}
        for doc_id, version in touched.items():
            self._rewrite(batch.conn, self.app.repository.get(doc_id, version=version))

    def reset(self) -> None:
        self._touched = {}
        super().reset()

    def _rewrite(self, conn: sqlite3.Connection, doc: Document) -> None:
        key = str(doc.id)
        fields = doc.fields
        voided = int(doc.voided is not None)
        if doc.kind == CALLBACK:
            person, role = _person(conn, fields)
            values = {
                **{c: _text(fields.get(c), self.tz) for c in _CALLBACK_COLUMNS},
                "number": doc.number,
                "advisor_explained": _flag(fields.get("advisor_explained")),
                "problem": int(bool(fields.get("problem"))),
                "person": person,
                "person_role": role,
                "voided": voided,
            }
            _upsert(conn, "cb_callbacks", key, _CALLBACK_COLUMNS, values)
            _add_days(conn, "doc_id = ?", (key,), -1)
            conn.execute("DELETE FROM cb_scores WHERE doc_id = ?", (key,))
            counts = int(not voided and fields.get("outcome") == REACHED)
            conn.executemany(
                f"INSERT INTO cb_scores (doc_id, {', '.join(_SCORE_COLUMNS)})"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (key, code, int(value), values["business_date"], counts, person, role)
                    for code, value in sorted(fields.items())
                    if code.startswith(SCORE_PREFIX) and isinstance(value, int)
                ],
            )
            _add_days(conn, "doc_id = ?", (key,), +1)
        elif doc.kind == QUICK_HANDLING:
            values = {
                **{c: _text(fields.get(c), self.tz) for c in _FORM_COLUMNS},
                "number": doc.number,
                "return_repair": int(bool(fields.get("return_repair"))),
                "manager_signed": int(MANAGER in doc.signed_roles()),
                "voided": voided,
            }
            _upsert(conn, "cb_forms", key, _FORM_COLUMNS, values)
        else:
            person = fields.get(ANSWERED_KINDS[doc.kind])
            values = {
                **{c: _text(fields.get(c), self.tz) for c in _PAPER_COLUMNS},
                "kind": doc.kind,
                "number": doc.number,
                "person": person,
                "voided": voided,
            }
            _upsert(conn, "cb_papers", key, _PAPER_COLUMNS, values)
            _name_person(conn, doc.kind, doc.number, person)

    # -- reading ----------------------------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a report's query over these tables, as dicts by column name."""
        return [dict(r) for r in self.query(sql, tuple(params))]


def _person(conn: sqlite3.Connection, fields: dict[str, Any]) -> tuple[str | None, str]:
    """Whom a callback is about: the sales consultant of the registration it names (a delivery
    callback), else the service advisor of its work order; None while the paper is not filed."""
    kind = "warranty_registration" if fields.get("registration_no") else "work_order"
    number = fields.get(LINK_FIELDS[kind])
    row = conn.execute(
        "SELECT person FROM cb_papers WHERE kind = ? AND number = ?", (kind, number)
    ).fetchone()
    return (row["person"] if row else None), ANSWERED_KINDS[kind]


def _name_person(conn: sqlite3.Connection, kind: str, number: str, person: str | None) -> None:
    """The callbacks about this paper, and their scores, name its person as it is now."""
    about = f"{LINK_FIELDS[kind]} = ?" + (
        " AND registration_no IS NULL" if kind == "work_order" else ""
    )
    conn.execute(f"UPDATE cb_callbacks SET person = ? WHERE {about}", (person, number))
    theirs = f"doc_id IN (SELECT doc_id FROM cb_callbacks WHERE {about})"
    _add_days(conn, theirs, (number,), -1)
    conn.execute(f"UPDATE cb_scores SET person = ? WHERE {theirs}", (person, number))
    _add_days(conn, theirs, (number,), +1)


def _add_days(conn: sqlite3.Connection, where: str, params: tuple[Any, ...], sign: int) -> None:
    """Add the counted scores of the callbacks ``where`` chooses to the day totals (sign +1),
    or take them out (-1) before they change."""
    rows = conn.execute(
        "SELECT business_date, person, person_role, item, score FROM cb_scores"
        f" WHERE counts = 1 AND {where}",
        params,
    ).fetchall()
    conn.executemany(
        "INSERT INTO cb_score_days (business_date, person, person_role, item, total, n)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (business_date, person, person_role, item)"
        " DO UPDATE SET total = cb_score_days.total + excluded.total,"
        " n = cb_score_days.n + excluded.n",
        [
            (
                r["business_date"] or "",
                r["person"] or "",
                r["person_role"],
                r["item"],
                sign * r["score"],
                sign,
            )
            for r in rows
        ],
    )


def _upsert(
    conn: sqlite3.Connection,
    table: str,
    key: str,
    columns: Sequence[str],
    values: dict[str, Any],
) -> None:
    names = ", ".join(columns)
    marks = ", ".join("?" * (len(columns) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    conn.execute(
        f"INSERT INTO {table} (doc_id, {names}) VALUES ({marks})"
        f" ON CONFLICT (doc_id) DO UPDATE SET {updates}",
        (key, *(values[c] for c in columns)),
    )


def _flag(value: Any) -> int | None:
    """A yes/no answer: 1, 0, or None when the question was not answered."""
    return None if value is None else int(bool(value))


def _text(value: Any, tz: tzinfo) -> Any:
    """Dates as 'YYYY-MM-DD', moments as local 'YYYY-MM-DD HH:MM' (sorts and slices as text)."""
    if isinstance(value, datetime):
        return f"{value.astimezone(tz):%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value
