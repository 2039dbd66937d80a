"""What the PostgreSQL engine stores: its tables, and an index entry as a row, with the same
exact keys and jieba terms as the Whoosh and Tantivy engines.

The jieba terms of an entry's text, customer and labels are one ``tsvector`` (configuration
``simple``: the lexemes are written out already cut, lower-cased and stemmed by
``projections.search.analysis``; PostgreSQL's own parser never sees the text). Every exact
value a query may name (kind, status, month, flags, number and its prefixes, VIN endings,
plates, phone endings, staff and signers) is a ``field:value`` element of one ``keys`` array.
Both sit in one GIN index, so a query's words and filters are answered by one index scan.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from projections.search.analysis import chinese_analyzer
from projections.search.backend import ENTRY_FORMAT, IndexEntry, lookup_keys

# The engine's own schema of the database (beside the events and the other read models);
# its connections search it first, so the tables below are named without it.
SCHEMA = "search"
ENTRIES = "entries"
STAFF = "staff"
STATE = "state"  # one row: the log position the entries follow, and the schema mark

# Stored columns, in the order rows are written (COPY) and read.
COLUMNS = (
    "key", "entry", "doc_id", "kind", "number", "version", "text", "business_date", "month",
    "status", "flags", "vin", "plate", "customer", "phone", "staff", "signers", "filed_at",
    "signed_at", "doc_voided", "labels", "terms", "keys",
)  # fmt: skip
# The longest lexeme PostgreSQL takes is 2,047 bytes and the highest position 16,383.
LONGEST_LEXEME = 2047
LAST_POSITION = 16383


def entries_table(name: str) -> str:
    """The entries table ``name`` (the live one, or one a rebuild fills beside it)."""
    return f"""
        CREATE TABLE {name} (
            key TEXT NOT NULL,  -- its primary key is added once the rows are in
            entry TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            number TEXT NOT NULL,
            version INTEGER NOT NULL,
            text TEXT NOT NULL,
            business_date INTEGER NOT NULL,
            month TEXT NOT NULL,
            status TEXT NOT NULL,
            flags TEXT[] NOT NULL,
            vin TEXT NOT NULL,
            plate TEXT NOT NULL,
            customer TEXT NOT NULL,
            phone TEXT NOT NULL,
            staff TEXT[] NOT NULL,
            signers TEXT[] NOT NULL,
            filed_at BIGINT NOT NULL,
            signed_at BIGINT NOT NULL,
            doc_voided BOOLEAN NOT NULL,
            labels TEXT NOT NULL,
            terms TSVECTOR NOT NULL,
            keys TEXT[] NOT NULL
        )"""


def entries_indexes(name: str) -> list[str]:
    """Made after a rebuild's rows are in (one sorted build, not 200,000 inserts)."""
    return [
        # Words and exact keys in one index: a query ANDs them inside one scan.
        f"CREATE INDEX ON {name} USING gin (terms, keys) WITH (fastupdate = off)",
        # Filters alone, newest first: read backwards along the dates.
        f"CREATE INDEX ON {name} (business_date, key)",
    ]


TABLES = {
    STATE: f"""CREATE TABLE IF NOT EXISTS {STATE} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        position BIGINT NOT NULL,
        schema TEXT NOT NULL)""",
    STAFF: f"""CREATE TABLE IF NOT EXISTS {STAFF} (
        username TEXT PRIMARY KEY,
        name TEXT NOT NULL)""",
}

# Kept with the state row; tables made under another schema are made again (and the runner
# replays the log into them).
# 2: which entries and whether voided are elements of ``keys`` too.
KEYS_FORMAT = 2
SCHEMA_VERSION = hashlib.sha256(
    repr((ENTRY_FORMAT, KEYS_FORMAT, COLUMNS, entries_table("t"), entries_indexes("t"))).encode()
).hexdigest()


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


class Analysis:
    """jieba terms as the other engines make them, written as PostgreSQL text search values."""

    def __init__(self) -> None:
        self._analyzer = chinese_analyzer()

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one per backend, kept with it
    def tsvector(self, *texts: str) -> str:
        """The terms of ``texts`` (text, customer, labels) with their positions, as a
        ``tsvector`` literal; remembered, since an entry's current and history versions
        (and a customer's name on every visit) are the same text."""
        positions: dict[str, list[int]] = {}
        offset = 0
        for text in texts:
            last = offset
            for token in self._analyzer(text, positions=True):
                if len(token.text.encode()) > LONGEST_LEXEME:
                    continue
                last = offset + token.pos
                positions.setdefault(token.text, []).append(min(last + 1, LAST_POSITION))
            offset = last + 2
        return " ".join(
            f"{_quoted(lexeme)}:{','.join(map(str, sorted(set(at))[:256]))}"
            for lexeme, at in positions.items()
        )

    def query_terms(self, words: str) -> list[str]:
        return [t.text for t in self._analyzer(words, mode="query")]


def tsquery(groups: list[tuple[str, ...]]) -> str:
    """A ``tsquery`` literal: every group matches, a group by any of its words."""
    return " & ".join("(" + " | ".join(_quoted(w) for w in group) + ")" for group in groups)


def key(field: str, value: str) -> str:
    """An element of ``keys``."""
    return f"{field}:{value}"


def entry_keys(e: IndexEntry) -> list[str]:
    """Every exact value the entry is found by, as ``field:value`` elements."""
    values: dict[str, list[str]] = {
        # Every query names these two: as keys, a query's filters are all index conditions.
        "entry": [e.entry],
        "doc_voided": ["yes" if e.doc_voided else "no"],
        "kind": [e.kind],
        "status": [e.status],
        "flags": list(e.flags),
        "month": [e.month] if e.month else [],
        "staff": list(e.staff),
        "signer": list(e.signers),
        **lookup_keys(e),
    }
    return sorted({key(field, v) for field, found in values.items() for v in found})


def entry_row(e: IndexEntry, analysis: Analysis) -> tuple[Any, ...]:
    """The entry as the values of :data:`COLUMNS`."""
    return (
        e.key, e.entry, e.doc_id, e.kind, e.number, e.version, e.text, e.business_date,
        e.month, e.status, sorted(e.flags), e.vin, e.plate, e.customer, e.phone,
        list(e.staff), list(e.signers), e.filed_at, e.signed_at, e.doc_voided, e.labels,
        analysis.tsvector(e.text, e.customer, e.labels), entry_keys(e),
    )  # fmt: skip
