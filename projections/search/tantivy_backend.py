"""The Tantivy engine (PyPI ``tantivy``) behind the search seam.

The same entries, exact keys and jieba terms as the Whoosh engine (``projections.search``'s
analysis, ``lookup_keys``, ``word_lookups``, synonyms), so the two answer alike; the
engines' conformance suite (``tests/test_search_engines.py``) holds them to it. Terms are
handed to Tantivy already cut (``PreTokenizedString``); Tantivy only stores and finds them.

A commit writes the entries and the log position together. A rebuild writes a fresh index
beside the live one and swaps it in (``projections.search.folders``), as Whoosh does.
"""

from __future__ import annotations

import functools
import hashlib
import html
import os
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from projections.runner import ProjectionBusy
from projections.search.analysis import chinese_analyzer
from projections.search.backend import (
    TEXT_FIELDS,
    FilterKey,
    Hit,
    IndexEntry,
    IndexWriter,
    SearchBackend,
    SearchResult,
    day_number,
    filter_key,
    lookup_keys,
    word_lookups,
)
from projections.search.folders import fresh_folder, swap_in
from projections.search.query import AllOf, AnyOf, DateRange, Node, Not, Query, Term, Text
from projections.search.words import with_synonyms

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
SNIPPET_CONTEXT = 20  # characters shown on each side of a match
# Written beside an index built with this schema; any other index is built again.
SCHEMA_MARK = "archive-schema"
SCHEMA_VERSION = hashlib.sha256(
    repr((KEYWORD_FIELDS, sorted(STORED_KEYWORDS), TEXT_FIELDS, INTEGER_FIELDS)).encode()
).hexdigest()


def _marked(mark: Path) -> bool:
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


class _Analysis:
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


def _document(e: IndexEntry, analysis: _Analysis) -> tantivy.Document:
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


def _staff_document(username: str, name: str) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("key", f"staff:{username}")
    doc.add_text("entry", "staff")
    doc.add_text("name", name)
    for value in (username.lower(), name.lower()):
        doc.add_text("staff", value)
    return doc


def _meta_document(position: int) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("key", META_KEY)
    doc.add_text("entry", "meta")
    doc.add_integer("position", position)
    return doc


class _Writer(IndexWriter):
    def __init__(self, writer: Any, analysis: _Analysis, position: int) -> None:
        self._writer = writer
        self._analysis = analysis
        self.position = position

    def put(self, entry: IndexEntry) -> None:
        self._writer.delete_documents_by_term("key", entry.key)
        self._writer.add_document(_document(entry, self._analysis))

    def put_staff(self, username: str, name: str) -> None:
        self._writer.delete_documents_by_term("key", f"staff:{username}")
        self._writer.add_document(_staff_document(username, name))


class TantivyBackend(SearchBackend):
    """``directory`` is a symbolic link to the index in use, as for Whoosh."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.parent.mkdir(parents=True, exist_ok=True)
        if not directory.exists():
            directory.mkdir()
        self.schema = build_schema()
        self._analysis = _Analysis()
        self._lock = threading.RLock()
        self._opened: str | None = None
        self._index: Any = None
        self._current()

    def _current(self) -> Any:
        """A searcher of what is committed now, from the index the link points at."""
        where = os.path.realpath(self.directory)
        if where != self._opened:
            mark = Path(where) / SCHEMA_MARK
            if not tantivy.Index.exists(where) or not _marked(mark):
                # New, or built by another version of this code: start over (the runner
                # replays the log into it).
                for child in Path(where).iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
                tantivy.Index(self.schema, path=where)
                mark.write_text(SCHEMA_VERSION, encoding="utf-8")
            self._index, self._opened = tantivy.Index.open(where), where
        self._index.reload()
        return self._index.searcher()

    def _term(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value, index_option="basic")

    # -- writing --------------------------------------------------------------------------

    def position(self) -> int:
        with self._lock:
            searcher = self._current()
            found = searcher.search(self._term("key", META_KEY), 1, count=False).hits
            if not found:
                return 0
            return int(searcher.doc(found[0][1]).get_first("position") or 0)

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        with self._lock:
            self._current()
            index = self._index
        try:
            raw = index.writer(heap_size=64_000_000, num_threads=1)
        except ValueError:
            raise ProjectionBusy("search") from None
        try:
            if os.path.realpath(self.directory) != self._opened:
                raise ProjectionBusy("search")  # a rebuild swapped the index in meanwhile
            wrapped = _Writer(raw, self._analysis, self.position())
            yield wrapped
            raw.delete_documents_by_term("key", META_KEY)
            raw.add_document(_meta_document(wrapped.position))
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.wait_merging_threads()  # lets go of the index's writer lock

    def replace_all(
        self, entries: Iterable[IndexEntry], staff: Mapping[str, str], position: int
    ) -> None:
        with self._lock:
            self._current()
            index = self._index
        try:  # held while building: incremental writers elsewhere wait for the new index
            live = index.writer(heap_size=15_000_000, num_threads=1)
        except ValueError:
            raise ProjectionBusy("search") from None
        fresh = fresh_folder(self.directory)
        try:
            built = tantivy.Index(self.schema, path=str(fresh))
            (fresh / SCHEMA_MARK).write_text(SCHEMA_VERSION, encoding="utf-8")
            threads = max(1, min(2, os.cpu_count() or 1))
            writer = built.writer(heap_size=256_000_000 * threads, num_threads=threads)
            for entry in entries:
                writer.add_document(_document(entry, self._analysis))
            for username, name in staff.items():
                writer.add_document(_staff_document(username, name))
            writer.add_document(_meta_document(position))
            writer.commit()
            writer.wait_merging_threads()
            old = swap_in(self.directory, fresh)
        except BaseException:
            live.rollback()
            live.wait_merging_threads()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        live.rollback()
        live.wait_merging_threads()
        with self._lock:
            self._current()
        if old != fresh:
            shutil.rmtree(old, ignore_errors=True)

    def clear(self) -> None:
        self.replace_all([], {}, 0)

    def staff_names(self) -> dict[str, str]:
        with self._lock:
            searcher = self._current()
            found = searcher.search(self._term("entry", "staff"), 10_000, count=False).hits
            names = {}
            for _, address in found:
                doc = searcher.doc(address)
                names[doc.get_first("key").removeprefix("staff:")] = doc.get_first("name")
            return names

    def entries(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            searcher = self._current()
            total = max(searcher.num_docs, 1)
            found = searcher.search(tantivy.Query.all_query(), total, count=False).hits
            docs = []
            for _, address in found:
                fields = searcher.doc(address).to_dict()
                if fields.get("entry") == ["meta"]:
                    continue
                docs.append({k: v[0] if len(v) == 1 else v for k, v in fields.items()})
        return iter(sorted(docs, key=lambda d: d["key"]))

    # -- searching ------------------------------------------------------------------------

    def search(self, query: Query, page: int = 1, page_size: int = 20) -> SearchResult:
        page = max(page, 1)
        by_date = query.sort == "date" or not query.has_text
        must: list[tantivy.Query] = [
            self._filter((("entry", "history" if query.history else "current"),))
        ]
        must_not: list[tantivy.Query] = []
        terms: list[str] = []
        for node in query.where.parts:
            if (found := filter_key(node)) is not None:
                must.append(self._filter(found))
            elif isinstance(node, Not) and (found := filter_key(node.part)) is not None:
                must_not.append(self._filter(found))
            elif (translated := self._translate(node, terms)) is not None:
                must.append(translated)
        clauses = [(tantivy.Occur.Must, q) for q in must]
        clauses += [(tantivy.Occur.MustNot, q) for q in must_not]
        full = tantivy.Query.boolean_query(clauses)
        with self._lock:
            searcher = self._current()
            kwargs: dict[str, Any] = {"offset": (page - 1) * page_size}
            if by_date:
                kwargs.update(order_by_field="business_date", order=tantivy.Order.Desc)
            result = searcher.search(full, page_size, count=True, **kwargs)
            hits = tuple(
                self._hit(searcher.doc(address), score, by_date, terms)
                for score, address in result.hits
            )
            return SearchResult(result.count, page, page_size, hits)

    def _filter(self, key: FilterKey) -> tantivy.Query:
        """A filter: it chooses documents and adds nothing to their score."""
        if len(key) == 1:
            inner = self._term(*key[0])
        else:
            inner = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, self._term(f, v)) for f, v in key]
            )
        return tantivy.Query.const_score_query(inner, 0.0)

    def _hit(self, doc: Any, score: Any, by_date: bool, terms: list[str]) -> Hit:
        fields = doc.to_dict()

        def first(name: str, default: Any = "") -> Any:
            values = fields.get(name)
            return values[0] if values else default

        text = first("text")
        date = str(first("business_date", ""))
        return Hit(
            doc_id=first("doc_id"),
            kind=first("kind"),
            number=first("number"),
            version=int(first("version", 0)),
            entry=first("entry"),
            business_date=f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else "",
            status=first("status"),
            flags=tuple(sorted(fields.get("flags", []))),
            score=0.0 if by_date else float(score),
            snippet=snippet(text, terms),
        )

    def _translate(self, node: Node, terms: list[str]) -> tantivy.Query | None:
        if isinstance(node, AllOf):
            parts = [p for p in (self._translate(n, terms) for n in node.parts) if p is not None]
            if not parts:
                return None
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])
        if isinstance(node, AnyOf):
            parts = [p for p in (self._translate(n, terms) for n in node.parts) if p is not None]
            return tantivy.Query.boolean_query([(tantivy.Occur.Should, p) for p in parts])
        if isinstance(node, Not):
            inner = self._translate(node.part, [])
            if inner is None:
                return None
            return tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.all_query()),
                    (tantivy.Occur.MustNot, inner),
                ]
            )
        if isinstance(node, Term):
            field = "number_key" if node.field == "number" else node.field
            if field in ("staff", "signer"):
                return self._term(field, node.value.lower())
            return self._term(field, node.value)
        if isinstance(node, DateRange):
            return tantivy.Query.range_query(
                self.schema,
                node.field,
                tantivy.FieldType.Integer,
                day_number(node.start),
                day_number(node.end),
            )
        if isinstance(node, Text):
            return self._text(node.words, terms)
        raise TypeError(node)

    def _text(self, words: str, terms: list[str]) -> tantivy.Query:
        """A typed word: its Chinese words (each, or a synonym, in any text field), or one of
        the exact keys it may be."""
        alternatives = [self._term(field, value) for field, value in word_lookups(words)]
        tokens = self._analysis.query_terms(words)
        if tokens:
            each = []
            for token in tokens:
                synonyms = with_synonyms(token)
                terms.extend(synonyms)
                each.append(
                    tantivy.Query.boolean_query(
                        [
                            (
                                tantivy.Occur.Should,
                                tantivy.Query.term_query(self.schema, f, s, index_option="freq"),
                            )
                            for s in synonyms
                            for f in TEXT_FIELDS
                        ]
                    )
                )
            alternatives.insert(
                0, tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in each])
            )
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in alternatives])

    def close(self) -> None:
        with self._lock:
            self._index = None
            self._opened = None


def snippet(text: str, terms: list[str], fragments: int = 2) -> str:
    """Up to ``fragments`` pieces of ``text`` around the words found, each match in
    ``<b class="match">``, the rest escaped; the beginning of the text when nothing matched."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        start = lowered.find(term) if term else -1
        while start >= 0:
            end = start + len(term)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = lowered.find(term, end)
    if not spans:
        return html.escape(text[:120])
    spans.sort()
    pieces: list[str] = []
    for first, _ in spans[:fragments]:
        begin = max(0, first - SNIPPET_CONTEXT)
        finish = min(len(text), first + SNIPPET_CONTEXT * 2)
        out, cursor = [], begin
        for s, e in spans:
            if s >= begin and e <= finish:
                out.append(html.escape(text[cursor:s]))
                out.append(f'<b class="match">{html.escape(text[s:e])}</b>')
                cursor = e
        out.append(html.escape(text[cursor:finish]))
        pieces.append("".join(out))
    return "...".join(pieces)
