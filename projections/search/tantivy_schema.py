"""What the Tantivy engine stores: its schema, and an index entry as a Tantivy document, with
the same exact keys and jieba terms as the Whoosh engine."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import tantivy

from projections.search.analysis import chinese_analyzer
from projections.search.backend import ENTRY_FORMAT, TEXT_FIELDS, IndexEntry, lookup_keys

META_KEY = "__meta__"
KEYWORD_FIELDS = (
    "key", "entry", "doc_id", "kind", "number", "month", "status", "flags", "doc_voided",
    "staff", "signer", "number_key", "number_prefix", "vin", "vin6", "vin8", "plate",
    "plate_tail", "plate_prefix", "phone", "phone4", "name",
)  # fmt: skip
STORED_KEYWORDS = frozenset(
    {"key", "entry", "doc_id", "kind", "number", "month", "status", "flags", "doc_voided",
     "staff", "signer", "vin", "plate", "phone", "name"}
)  # fmt: skip
INTEGER_FIELDS = ("version", "business_date", "filed_at", "signed_at", "position")
# Written beside an index built with this schema; any other index is built again.
SCHEMA_MARK = "archive-schema"
SCHEMA_VERSION = hashlib.sha256(
    repr(
        (ENTRY_FORMAT, KEYWORD_FIELDS, sorted(STORED_KEYWORDS), TEXT_FIELDS, INTEGER_FIELDS)
    ).encode()
).hexdigest()


def marked(mark: Path) -> bool:
    try:
        return mark.read_text(encoding="utf-8") == SCHEMA_VERSION
    except OSError:
        return False


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in KEYWORD_FIELDS:
        builder.add_text_field(
            name, stored=name in STORED_KEYWORDS, tokenizer_name="raw", index_option="basic"
        )
    for name in TEXT_FIELDS:
        builder.add_text_field(
            name, stored=name != "labels", tokenizer_name="raw", index_option="freq"
        )
    for name in INTEGER_FIELDS:
        builder.add_integer_field(
            name, stored=True, indexed=name == "business_date", fast=name == "business_date"
        )
    return builder.build()


class Analysis:
    """jieba terms as the Whoosh engine makes them (lower case, stop words out, stemmed)."""

    def __init__(self) -> None:
        self._analyzer = chinese_analyzer()

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one per backend, kept with it
    def pre_tokenized(self, text: str) -> tantivy.PreTokenizedString:
        """The text with its terms; remembered, since an entry's current and history
        versions (and a customer's name on every visit) are the same text."""
        tokens = [
            tantivy.Token(t.text, t.pos, t.startchar, t.endchar)
            for t in self._analyzer(text, positions=True, chars=True)
        ]
        return tantivy.PreTokenizedString(text, tokens)

    def query_terms(self, words: str) -> list[str]:
        return [t.text for t in self._analyzer(words, mode="query")]


def tantivy_document(e: IndexEntry, analysis: Analysis) -> tantivy.Document:
    doc = tantivy.Document()
    plain = {
        "key": [e.key],
        "entry": [e.entry],
        "doc_id": [e.doc_id],
        "kind": [e.kind],
        "number": [e.number],
        "month": [e.month] if e.month else [],
        "status": [e.status],
        "flags": sorted(e.flags),
        "staff": e.staff,
        "signer": e.signers,
        "doc_voided": ["yes" if e.doc_voided else "no"],
        **lookup_keys(e),
    }
    for field, values in plain.items():
        for value in values:
            doc.add_text(field, value)
    for field, text in (("text", e.text), ("customer", e.customer), ("labels", e.labels)):
        if text:
            doc.add_pre_tokenized_text(field, analysis.pre_tokenized(text))
    for field, number in (
        ("version", e.version),
        ("business_date", e.business_date),
        ("filed_at", e.filed_at),
        ("signed_at", e.signed_at),
    ):
        doc.add_integer(field, number)
    return doc


def staff_document(username: str, name: str) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("key", f"staff:{username}")
    doc.add_text("entry", "staff")
    doc.add_text("name", name)
    for value in (username.lower(), name.lower()):
        doc.add_text("staff", value)
    return doc


def meta_document(position: int) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("key", META_KEY)
    doc.add_text("entry", "meta")
    doc.add_integer("position", position)
    return doc
