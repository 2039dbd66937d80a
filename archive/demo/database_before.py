"""What a PostgreSQL database held before a demo began, to put it back if the demo fails.

A failed demo must leave the database as it found it, whichever parts of the archive moved
into it (issue 16: read models, the search schema, scans, checkpoints, bundle jobs), so this
does not list them: it reads the catalogue, limited to the archive's own schemas and tables
(``ours``: the database may hold other applications' tables, never read or touched here).
Before the demo: the schemas and tables there,
which tables held rows, and which scans. After a failure: a schema or table the demo made is
dropped, a table that was empty is emptied, the scans it added are deleted, and any other
table that held rows gets back the rows it held (with no event yet these are few: the read
models' positions and shapes, search's state row, sessions). The event table is the
caller's (it is emptied, never dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archive.bootstrap import LEDGER_SCHEMA, READ_MODELS_SCHEMA
from projections.search.pg_schema import SCHEMA as SEARCH_SCHEMA

_CATALOGUE = """
    SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'r' AS is_table
    FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
    WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
"""
SCANS, SCAN_CHUNKS = "archive_blobs", "archive_blob_chunks"  # archive/blobs/table.py
# Schemas all of whose tables are the archive's; elsewhere its tables are named archive_*
# (sessions, login failures, scans, checkpoints, bundle jobs).
OWN_SCHEMAS = frozenset({READ_MODELS_SCHEMA, LEDGER_SCHEMA, SEARCH_SCHEMA})
TABLE_PREFIX = "archive_"


def ours(schema: str, table: str | None = None) -> bool:
    """Whether the schema (or its table) is the archive's to put back."""
    return schema in OWN_SCHEMAS or (table is not None and table.startswith(TABLE_PREFIX))


@dataclass(frozen=True)
class DatabaseBefore:
    url: str
    schemas: frozenset[str]
    tables: frozenset[tuple[str, str]]
    empty: frozenset[tuple[str, str]]
    scans: frozenset[str]
    rows: dict[tuple[str, str], list[tuple[Any, ...]]]  # of the other tables that had rows

    @classmethod
    def read(cls, url: str) -> DatabaseBefore:
        with _connect(url) as conn:
            schemas, tables = _catalogue(conn)
            empty = {t for t in tables if not _has_rows(conn, t)}
            scans = {
                row[0]
                for schema, name in tables - empty
                if name == SCANS
                for row in conn.execute(_sql("SELECT sha256 FROM {}", (schema, name)))
            }
            rows = {
                table: conn.execute(_sql("SELECT * FROM {}", table)).fetchall()
                for table in tables - empty
                if table[1] not in (SCANS, SCAN_CHUNKS)
            }
        return cls(
            url, frozenset(schemas), frozenset(tables), frozenset(empty), frozenset(scans), rows
        )

    def restore(self, keep: tuple[str, str]) -> None:
        """Undo what a failed demo wrote, in one transaction; ``keep`` is the event table."""
        with _connect(self.url) as conn, conn.transaction():
            schemas, tables = _catalogue(conn)
            new = schemas - self.schemas
            for schema in sorted(new):
                conn.execute(_sql("DROP SCHEMA {} CASCADE", (schema,)))
            made = {t for t in tables - self.tables if t[0] not in new and t != keep}
            for table in sorted(made):
                conn.execute(_sql("DROP TABLE IF EXISTS {} CASCADE", table))
            emptied = sorted(t for t in self.empty & tables if t != keep)
            if emptied:
                names = ", ".join("{}" for _ in emptied)
                conn.execute(_sql(f"TRUNCATE {names}", *emptied))
            for schema, name in sorted((self.tables - self.empty) & tables):
                if name == SCANS:
                    self._forget_scans(conn, schema)
            for table, rows in self.rows.items():
                if table != keep and table in tables:
                    self._put_back(conn, table, rows)

    def _forget_scans(self, conn: Any, schema: str) -> None:
        added = [
            row[0]
            for row in conn.execute(_sql("SELECT sha256 FROM {}", (schema, SCANS)))
            if row[0] not in self.scans
        ]
        for table in (SCAN_CHUNKS, SCANS):  # the chunks name their scan
            conn.execute(_sql("DELETE FROM {} WHERE sha256 = ANY(%s)", (schema, table)), (added,))

    @staticmethod
    def _put_back(conn: Any, table: tuple[str, str], rows: list[tuple[Any, ...]]) -> None:
        conn.execute(_sql("DELETE FROM {}", table))
        if rows:
            marks = ", ".join(["%s"] * len(rows[0]))
            insert = _sql(f"INSERT INTO {{}} VALUES ({marks})", table)
            conn.cursor().executemany(insert, rows)


def _connect(url: str) -> Any:
    import psycopg  # only a PostgreSQL archive needs it

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def _catalogue(conn: Any) -> tuple[set[str], set[tuple[str, str]]]:
    rows = conn.execute(_CATALOGUE).fetchall()
    schemas = {r[0] for r in rows if ours(r[0])}
    return schemas, {(r[0], r[1]) for r in rows if r[2] and ours(r[0], r[1])}


def _has_rows(conn: Any, table: tuple[str, str]) -> bool:
    return conn.execute(_sql("SELECT EXISTS (SELECT 1 FROM {})", table)).fetchone()[0]


def _sql(template: str, *names: tuple[str, ...]) -> Any:
    """``template`` with each ``{}`` replaced by a quoted (schema-qualified) name."""
    from psycopg import sql

    return sql.SQL(template).format(*(sql.Identifier(*name) for name in names))
