"""The Tantivy engine (PyPI ``tantivy``) behind the search seam.

The same entries, exact keys and jieba terms as the Whoosh engine (``projections.search``'s
analysis, ``lookup_keys``, ``word_lookups``, synonyms), so the two answer alike; the
engines' conformance suite (``tests/test_search_engines.py``) holds them to it. Terms are
handed to Tantivy already cut (``PreTokenizedString``); Tantivy only stores and finds them.

A commit writes the entries and the log position together. A rebuild writes a fresh index
beside the live one and swaps it in (``projections.search.folders``), as Whoosh does.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from projections.runner import ProjectionBusy
from projections.search.backend import (
    TEXT_FIELDS,
    FilterKey,
    Hit,
    IndexEntry,
    IndexWriter,
    SearchBackend,
    SearchResult,
    day_number,
    entries_searched,
    filter_key,
    word_lookups,
)
from projections.search.folders import fresh_folder, swap_in
from projections.search.query import AllOf, AnyOf, DateRange, Node, Not, Query, Term, Text
from projections.search.snippets import snippet
from projections.search.tantivy_schema import (
    META_KEY,
    SCHEMA_MARK,
    SCHEMA_VERSION,
    Analysis,
    build_schema,
    marked,
    meta_document,
    staff_document,
    tantivy_document,
)
from projections.search.words import with_synonyms


class _Writer(IndexWriter):
    def __init__(self, writer: Any, analysis: Analysis, position: int) -> None:
        self._writer = writer
        self._analysis = analysis
        self.position = position

    def put(self, entry: IndexEntry) -> None:
        self._writer.delete_documents_by_term("key", entry.key)
        self._writer.add_document(tantivy_document(entry, self._analysis))

    def put_staff(self, username: str, name: str) -> None:
        self._writer.delete_documents_by_term("key", f"staff:{username}")
        self._writer.add_document(staff_document(username, name))


class TantivyBackend(SearchBackend):
    """``directory`` is a symbolic link to the index in use, as for Whoosh."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.parent.mkdir(parents=True, exist_ok=True)
        if not directory.exists():
            directory.mkdir()
        self.schema = build_schema()
        self._analysis = Analysis()
        self._lock = threading.RLock()
        self._opened: str | None = None
        self._index: Any = None
        self._current()

    def _current(self) -> Any:
        """A searcher of what is committed now, from the index the link points at."""
        where = os.path.realpath(self.directory)
        if where != self._opened:
            mark = Path(where) / SCHEMA_MARK
            if not tantivy.Index.exists(where) or not marked(mark):
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
            raw.add_document(meta_document(wrapped.position))
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
                writer.add_document(tantivy_document(entry, self._analysis))
            for username, name in staff.items():
                writer.add_document(staff_document(username, name))
            writer.add_document(meta_document(position))
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
        must: list[tantivy.Query] = [self._filter(entries_searched(query.history))]
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
