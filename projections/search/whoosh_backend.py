"""The Whoosh engine (whoosh-reloaded) behind the search seam.

Made for a desk that searches all day in an archive that grows for years:
- one searcher stays open between queries and is reopened only when the index changed;
- the filters of the query language (kind, status, month, flags, history, voided) are sets of
  documents, computed once per opened searcher and reused by every query that names them;
- a query sorted by date collects its hits without scoring them;
- numbers, VINs, plates and phones are exact keys, their prefixes and endings too, so a
  prefix is a term lookup, never a scan;
- a rebuild writes a fresh index beside the live one with plain adds in one process (see
  ``REBUILD_PROCS``), commits once, and puts it in place by swapping a symbolic link:
  searches meanwhile use the old index, never a half-built one.
"""

from __future__ import annotations

import heapq
import html
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.highlight import HtmlFormatter
from whoosh.index import LockError
from whoosh.query import And, Every, NumericRange, Or
from whoosh.query import Not as WNot
from whoosh.query import Query as WQuery
from whoosh.query import Term as WTerm
from whoosh.sorting import FieldFacet

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
from projections.search.whoosh_schema import (
    META_KEY,
    build_schema,
    staff_document,
    whoosh_document,
)
from projections.search.words import with_synonyms

# A filter of business dates (not a field of the index: read off its date column).
DATES = "business_date range"

# Processes a rebuild indexes in: more than one was slower here (the jieba dictionary in each,
# pickling every document to it), 284 vs 325 documents/s at 5,000 documents.
REBUILD_PROCS = 1


class _Writer(IndexWriter):
    def __init__(self, writer: Any, position: int) -> None:
        self._writer = writer
        self.position = position

    def put(self, entry: IndexEntry) -> None:
        self._writer.update_document(**whoosh_document(entry))

    def put_staff(self, username: str, name: str) -> None:
        self._writer.update_document(**staff_document(username, name))


def _acquire(lock: Any, timeout: float) -> bool:
    """Take a Whoosh lock, waiting up to ``timeout`` seconds for another process to let go."""
    deadline = time.monotonic() + timeout
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _hit_of(fields: dict[str, Any], snippet: str, score: float) -> Hit:
    if not snippet:
        snippet = html.escape((fields.get("text") or "")[:120])
    date = str(fields.get("business_date", ""))
    return Hit(
        doc_id=fields["doc_id"],
        kind=fields["kind"],
        number=fields["number"],
        version=int(fields["version"]),
        entry=fields["entry"],
        business_date=f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else "",
        status=fields["status"],
        flags=tuple(fields.get("flags", "").split()),
        score=score,
        snippet=snippet,
    )


class WhooshBackend(SearchBackend):
    """``directory`` is a symbolic link to the index in use (a plain folder is taken over
    at the first rebuild)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.parent.mkdir(parents=True, exist_ok=True)
        if not directory.exists():
            directory.mkdir()
        self._lock = threading.RLock()
        self._searcher: Any = None
        self._opened: tuple[str, int] | None = None
        self._filters: dict[FilterKey, frozenset[int]] = {}
        self._dates: dict[int, list[int]] = {}  # the open searcher's date column
        self._combined: dict[tuple[frozenset[FilterKey], frozenset[FilterKey]], set[int]] = {}
        self.ix = self._open()
        self.analyzer = self.ix.schema["text"].analyzer

    def _open(self) -> Any:
        where = os.path.realpath(self.directory)
        schema = build_schema()
        if index.exists_in(where):
            ix = index.open_dir(where)
            if sorted(ix.schema.names()) == sorted(schema.names()):
                return ix
            ix.close()  # built by another version of this code: start over (the runner replays)
        return index.create_in(where, schema)

    def _current(self) -> Any:
        """The open searcher, reopened if a commit or a rebuild changed the index."""
        where = os.path.realpath(self.directory)
        if self._opened is None or self._opened[0] != where:
            self.ix.close()
            self.ix = self._open()
        seen = (where, self.ix.latest_generation())
        if seen != self._opened or self._searcher is None:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = self.ix.searcher()
            self._filters.clear()
            self._combined.clear()
            self._dates.clear()
            self._opened = seen
        return self._searcher

    # -- writing --------------------------------------------------------------------------

    def position(self) -> int:
        with self._lock:
            meta = self._current().document(key=META_KEY)
        return int(meta["position"]) if meta else 0

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        with self._lock:
            self._current()  # the index in use now, after any rebuild
            ix = self.ix
        try:
            raw = ix.writer(timeout=1.0, limitmb=128)
        except LockError:
            raise ProjectionBusy("search") from None
        if os.path.realpath(self.directory) != ix.storage.folder:
            raw.cancel()  # a rebuild put another index in place while we waited
            raise ProjectionBusy("search")
        try:
            # Read the position under the writer's lock, from what is committed now.
            with self._lock:
                self._opened = None
                wrapped = _Writer(raw, self.position())
            yield wrapped
            raw.update_document(key=META_KEY, entry="meta", position=wrapped.position)
            raw.commit()
        except BaseException:
            raw.cancel()
            raise

    def replace_all(
        self, entries: Iterable[IndexEntry], staff: Mapping[str, str], position: int
    ) -> None:
        with self._lock:
            self._current()
            # Held while building: incremental writers elsewhere wait for the new index.
            live = self.ix.lock("WRITELOCK")
        if not _acquire(live, timeout=30.0):
            raise ProjectionBusy("search")
        fresh = fresh_folder(self.directory)
        try:
            ix = index.create_in(str(fresh), build_schema())
            writer = ix.writer(procs=REBUILD_PROCS, limitmb=256)
            try:
                for entry in entries:
                    writer.add_document(**whoosh_document(entry))
                for username, name in staff.items():
                    writer.add_document(**staff_document(username, name))
                writer.add_document(key=META_KEY, entry="meta", position=position)
                writer.commit()
            finally:
                ix.close()
            old = swap_in(self.directory, fresh)
            with self._lock:
                self._opened = None
                self._current()
        except BaseException:
            live.release()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        live.release()
        if old != fresh:
            shutil.rmtree(old, ignore_errors=True)

    def clear(self) -> None:
        self.replace_all([], {}, 0)

    def staff_names(self) -> dict[str, str]:
        with self._lock:
            return {
                d["key"].removeprefix("staff:"): d["name"]
                for d in self._current().documents(entry="staff")
            }

    def entries(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            docs = [d for d in self._current().all_stored_fields() if d.get("entry") != "meta"]
        return iter(sorted(docs, key=lambda d: d["key"]))

    # -- searching ------------------------------------------------------------------------

    def search(self, query: Query, page: int = 1, page_size: int = 20) -> SearchResult:
        page = max(page, 1)
        by_date = query.sort == "date" or not query.has_text
        keep: list[FilterKey] = [entries_searched(query.history)]
        drop: list[FilterKey] = []
        rest: list[WQuery] = []
        ranges: list[DateRange] = []
        for node in query.where.parts:
            if (found := filter_key(node)) is not None:
                keep.append(found)
            elif isinstance(node, DateRange) and node.field == "business_date":
                ranges.append(node)
            elif isinstance(node, Not) and (found := filter_key(node.part)) is not None:
                drop.append(found)
            elif (translated := self._translate(node)) is not None:
                rest.append(translated)
        for span in ranges:
            if rest:  # with words, intersecting inside the query is quicker
                rest.append(self._translate(span))  # type: ignore[arg-type]
            else:
                keep.append(((DATES, f"{day_number(span.start)}..{day_number(span.end)}"),))
        main = (And(rest) if len(rest) > 1 else rest[0]) if rest else Every()
        with self._lock:
            searcher = self._current()
            allowed = self._allowed(searcher, keep, drop)
            if not allowed:  # Whoosh reads an empty filter as none at all
                return SearchResult(0, page, page_size, ())
            if not rest:
                return self._by_date(searcher, allowed, page, page_size)
            kwargs: dict[str, Any] = {"filter": allowed}
            if by_date:
                kwargs.update(sortedby=FieldFacet("business_date", reverse=True), scored=False)
            results = searcher.search(main, limit=page * page_size, **kwargs)
            results.fragmenter.charlimit = None
            results.formatter = HtmlFormatter(tagname="b", classname="match")
            hits = tuple(self._hit(h) for h in results[(page - 1) * page_size : page * page_size])
            # Counted apart: Whoosh's own count of a limited search leaves out documents its
            # collector skipped (measured: 89,543 of 102,780 for 保养 at 200,000 documents).
            total = len(allowed.intersection(searcher.docs_for_query(main)))
            return SearchResult(total, page, page_size, hits)

    def _allowed(self, searcher: Any, keep: list[FilterKey], drop: list[FilterKey]) -> set[int]:
        """The documents every kept filter holds and no dropped one does, remembered for the
        open searcher (a plain set: what Whoosh takes as a filter; nothing changes it)."""
        key = (frozenset(keep), frozenset(drop))
        found = self._combined.get(key)
        if found is None:
            allowed = frozenset.intersection(*(self._docs(searcher, k) for k in keep))
            if drop:
                allowed = allowed - frozenset().union(*(self._docs(searcher, k) for k in drop))
            found = self._combined[key] = set(allowed)
        return found

    def _docs(self, searcher: Any, key: FilterKey) -> frozenset[int]:
        """The documents any of the (field, value) pairs of ``key`` names."""
        found = self._filters.get(key)
        if found is None:
            found = frozenset().union(*(self._matching(searcher, f, v) for f, v in key))
            self._filters[key] = found
        return found

    def _matching(self, searcher: Any, field: str, value: str) -> frozenset[int]:
        if field != DATES:
            return frozenset(searcher.docs_for_query(WTerm(field, value)))
        # A range of business dates, read off the date column: Whoosh's numeric range
        # query walks one term per day of it.
        start, end = (int(day) for day in value.split(".."))
        return frozenset(
            d for d, day in enumerate(self._date_column(searcher)) if start <= day <= end
        )

    def _date_column(self, searcher: Any) -> list[int]:
        """Each document's business date (yyyymmdd), by document number, for the open searcher."""
        dates = self._dates.get(id(searcher))
        if dates is None:
            column = searcher.reader().column_reader("business_date")
            dates = self._dates[id(searcher)] = list(column)
        return dates

    def _hit(self, hit: Any) -> Hit:
        fields = hit.fields()
        snippet = hit.highlights("text", top=2) if fields.get("text") else ""
        return _hit_of(fields, snippet, float(hit.score or 0.0))

    def _by_date(self, searcher: Any, allowed: set[int], page: int, page_size: int) -> SearchResult:
        """Filters alone: the allowed documents newest first, read off the date column
        (Whoosh would walk every document of the index to find them)."""
        dates = self._date_column(searcher)
        newest = heapq.nlargest(page * page_size, allowed, key=lambda d: (dates[d], d))
        hits = tuple(
            _hit_of(searcher.stored_fields(d), "", 0.0)
            for d in newest[(page - 1) * page_size : page * page_size]
        )
        return SearchResult(len(allowed), page, page_size, hits)

    def _translate(self, node: Node) -> WQuery | None:
        if isinstance(node, AllOf):
            parts = [p for p in (self._translate(n) for n in node.parts) if p is not None]
            positives = [p for p in parts if not isinstance(p, WNot)]
            if not parts:
                return None
            if not positives:  # whoosh needs something to subtract from
                parts.insert(0, Every())
            return And(parts) if len(parts) > 1 else parts[0]
        if isinstance(node, AnyOf):
            return Or([q for q in (self._translate(n) for n in node.parts) if q is not None])
        if isinstance(node, Not):
            inner = self._translate(node.part)
            if inner is None:
                return None
            return And([Every(), WNot(inner)])
        if isinstance(node, Term):
            field = "number_key" if node.field == "number" else node.field
            return WTerm(field, node.value)
        if isinstance(node, DateRange):
            return NumericRange(
                node.field, day_number(node.start), day_number(node.end), constantscore=True
            )
        if isinstance(node, Text):
            return self._text(node.words)
        raise TypeError(node)

    def _text(self, words: str) -> WQuery:
        """A typed word: its Chinese words (each, or a synonym, in any text field), or one of
        the exact keys it may be."""
        tokens = [t.text for t in self.analyzer(words, mode="query")]
        alternatives: list[WQuery] = [WTerm(field, value) for field, value in word_lookups(words)]
        if tokens:
            each = [
                Or([WTerm(f, s) for s in with_synonyms(t) for f in TEXT_FIELDS]) for t in tokens
            ]
            alternatives.insert(0, And(each) if len(each) > 1 else each[0])
        return Or(alternatives)

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self.ix.close()
