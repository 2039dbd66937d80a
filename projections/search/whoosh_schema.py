"""What the Whoosh engine stores: its schema, and an index entry as a Whoosh document, with
the same exact keys as the Tantivy engine; and a fix of Whoosh's own."""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from projections.search.analysis import chinese_analyzer
from projections.search.backend import ENTRY_FORMAT, IndexEntry, lookup_keys

META_KEY = "__meta__"


def _remember_missing_columns() -> None:
    """Whoosh asks the file system whether a field has a length column for every posting it
    writes of a field that has none (ID and KEYWORD fields), and never remembers the answer:
    most of a rebuild went into ``stat`` calls. A written segment's files do not change, so
    the answer is remembered, found or not."""
    original = W3PerDocReader._cached_reader

    def cached_reader(self: Any, fieldname: str, column: Any) -> Any:
        if fieldname not in self._readers and not self.has_column(fieldname):
            self._readers[fieldname] = None
        return original(self, fieldname, column)

    W3PerDocReader._cached_reader = cached_reader


_remember_missing_columns()


def build_schema() -> Schema:
    analyzer = chinese_analyzer()
    return Schema(
        key=ID(unique=True, stored=True),
        entry=ID(stored=True),
        doc_id=ID(stored=True),
        kind=ID(stored=True),
        number=STORED,
        number_key=ID,
        number_prefix=KEYWORD,
        version=NUMERIC(stored=True),
        # No positions (phrase=False): queries never ask for phrases, and a rebuild writes
        # half the postings data without them.
        text=TEXT(analyzer=analyzer, stored=True, phrase=False),
        customer=TEXT(analyzer=analyzer, stored=True, phrase=False),
        labels=TEXT(analyzer=analyzer, phrase=False),
        vin=ID(stored=True),
        vin6=ID,
        vin8=ID,
        plate=ID(stored=True),
        plate_tail=ID,
        plate_prefix=KEYWORD,
        phone=ID(stored=True),
        phone4=ID,
        staff=KEYWORD(lowercase=True, stored=True),
        signer=KEYWORD(lowercase=True, stored=True),
        business_date=NUMERIC(stored=True, sortable=True),
        month=ID(stored=True),
        status=ID(stored=True),
        flags=KEYWORD(stored=True),
        filed_at=NUMERIC(bits=64, stored=True),
        signed_at=NUMERIC(bits=64, stored=True),
        doc_voided=ID(stored=True),
        position=NUMERIC(bits=64, stored=True),
        name=STORED,
        # Never written: its name carries the entry format, so an index of another format
        # has other field names and is built again (WhooshBackend._open).
        **{f"format_{ENTRY_FORMAT}": STORED},
    )


def staff_document(username: str, name: str) -> dict[str, Any]:
    return {
        "key": f"staff:{username}",
        "entry": "staff",
        "staff": f"{username} {name}",
        "name": name,
    }


def whoosh_document(e: IndexEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "key": e.key,
        "entry": e.entry,
        "doc_id": e.doc_id,
        "kind": e.kind,
        "number": e.number,
        "version": e.version,
        "text": e.text,
        "customer": e.customer,
        "labels": e.labels,
        "business_date": e.business_date,
        "month": e.month,
        "status": e.status,
        "flags": " ".join(sorted(e.flags)),
        "staff": " ".join(e.staff),
        "signer": " ".join(e.signers),
        "filed_at": e.filed_at,
        "signed_at": e.signed_at,
        "doc_voided": "yes" if e.doc_voided else "no",
    }
    for field, values in lookup_keys(e).items():
        doc[field] = " ".join(values) if field.endswith("_prefix") else values[0]
    return doc
