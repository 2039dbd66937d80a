"""The Whoosh engine (whoosh-reloaded) behind the search seam."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import HtmlFormatter
from whoosh.index import LockError
from whoosh.query import And, NumericRange, Or
from whoosh.query import Not as WNot
from whoosh.query import Query as WQuery
from whoosh.query import Term as WTerm
from whoosh.sorting import FieldFacet

from projections.runner import ProjectionBusy
from projections.search.analysis import chinese_analyzer, digits, normalize_plate, plate_tail
from projections.search.backend import (
    Hit,
    IndexEntry,
    IndexWriter,
    SearchBackend,
    SearchResult,
    day_number,
)
from projections.search.query import AllOf, AnyOf, DateRange, Node, Not, Query, Term, Text

META_KEY = "__meta__"


def build_schema() -> Schema:
    analyzer = chinese_analyzer()
    return Schema(
        key=ID(unique=True, stored=True),
        entry=ID(stored=True),
        doc_id=ID(stored=True),
        kind=ID(stored=True),
        number=STORED,
        number_key=ID,
        version=NUMERIC(stored=True),
        text=TEXT(analyzer=analyzer, stored=True),
        customer=TEXT(analyzer=analyzer, stored=True),
        vin=ID(stored=True),
        vin6=ID,
        vin8=ID,
        plate=ID(stored=True),
        plate_tail=ID,
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
    )


class _Writer(IndexWriter):
    def __init__(self, writer: Any, position: int) -> None:
        self._writer = writer
        self.position = position

    def put(self, entry: IndexEntry) -> None:
        self._writer.update_document(**_document(entry))

    def put_staff(self, username: str, name: str) -> None:
        self._writer.update_document(
            key=f"staff:{username}", entry="staff", staff=f"{username} {name}", name=name
        )


def _document(e: IndexEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "key": e.key,
        "entry": e.entry,
        "doc_id": e.doc_id,
        "kind": e.kind,
        "number": e.number,
        "number_key": e.number.lower(),
        "version": e.version,
        "text": e.text,
        "customer": e.customer,
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
    if e.vin:
        doc.update(vin=e.vin, vin6=e.vin[-6:], vin8=e.vin[-8:])
    if e.plate:
        doc.update(plate=e.plate, plate_tail=plate_tail(e.plate))
    if e.phone:
        doc.update(phone=e.phone, phone4=e.phone[-4:])
    return doc


class WhooshBackend(SearchBackend):
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        schema = build_schema()
        if index.exists_in(str(directory)):
            self.ix = index.open_dir(str(directory))
            if sorted(self.ix.schema.names()) != sorted(schema.names()):
                # Built by another version of this code: start over (the runner replays).
                self.ix.close()
                self.ix = index.create_in(str(directory), schema)
        else:
            self.ix = index.create_in(str(directory), schema)
        self.analyzer = self.ix.schema["text"].analyzer

    # -- writing --------------------------------------------------------------------------

    def position(self) -> int:
        with self.ix.searcher() as searcher:
            meta = searcher.document(key=META_KEY)
        return int(meta["position"]) if meta else 0

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        try:
            raw = self.ix.writer(timeout=1.0, limitmb=128)
        except LockError:
            raise ProjectionBusy("search") from None
        try:
            # Read the position under the writer's lock, from what is committed now.
            self.ix = index.open_dir(str(self.directory))
            wrapped = _Writer(raw, self.position())
            yield wrapped
            raw.update_document(key=META_KEY, entry="meta", position=wrapped.position)
            raw.commit()
        except BaseException:
            raw.cancel()
            raise

    def clear(self) -> None:
        try:
            raw = self.ix.writer(timeout=5.0)
        except LockError:
            raise ProjectionBusy("search") from None
        raw.cancel()
        self.ix = index.create_in(str(self.directory), build_schema())

    def staff_names(self) -> dict[str, str]:
        with self.ix.searcher() as searcher:
            return {
                d["key"].removeprefix("staff:"): d["name"]
                for d in searcher.documents(entry="staff")
            }

    def entries(self) -> Iterator[dict[str, Any]]:
        with self.ix.searcher() as searcher:
            docs = [d for d in searcher.all_stored_fields() if d.get("entry") != "meta"]
        return iter(sorted(docs, key=lambda d: d["key"]))

    # -- searching ------------------------------------------------------------------------

    def search(self, query: Query, page: int = 1, page_size: int = 20) -> SearchResult:
        where = self._translate(query.where)
        # Every content version has a history entry, the latest included: with history:yes
        # search those alone, so each hit names the version that held the text.
        entry = WTerm("entry", "history" if query.history else "current")
        full = And([where, entry]) if where is not None else entry
        kwargs: dict[str, Any] = {}
        if query.sort == "date" or not query.has_text:
            kwargs.update(sortedby=FieldFacet("business_date", reverse=True))
        with self.ix.searcher() as searcher:
            results = searcher.search_page(full, max(page, 1), pagelen=page_size, **kwargs)
            results.results.fragmenter.charlimit = None
            results.results.formatter = HtmlFormatter(tagname="b", classname="match")
            hits = tuple(self._hit(h) for h in results)
            return SearchResult(results.total, max(page, 1), page_size, hits)

    def _hit(self, hit: Any) -> Hit:
        fields = hit.fields()
        snippet = hit.highlights("text", top=2) if fields.get("text") else ""
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
            score=float(hit.score or 0.0),
            snippet=snippet,
        )

    def _translate(self, node: Node) -> WQuery | None:
        if isinstance(node, AllOf):
            parts = [p for p in (self._translate(n) for n in node.parts) if p is not None]
            positives = [p for p in parts if not isinstance(p, WNot)]
            if not parts:
                return None
            if not positives:  # whoosh needs something to subtract from
                parts.insert(0, Or([WTerm("entry", "current"), WTerm("entry", "history")]))
            return And(parts) if len(parts) > 1 else parts[0]
        if isinstance(node, AnyOf):
            return Or([q for q in (self._translate(n) for n in node.parts) if q is not None])
        if isinstance(node, Not):
            inner = self._translate(node.part)
            return WNot(inner) if inner is not None else None
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
        tokens = [t.text for t in self.analyzer(words, mode="query")]
        alternatives: list[WQuery] = []
        if tokens:
            alternatives += [And([WTerm(f, t) for t in tokens]) for f in ("text", "customer")]
        upper = words.upper()
        alternatives += [
            WTerm("number_key", words.lower()),
            WTerm("staff", words.lower()),
            WTerm("vin", upper),
            WTerm("vin6", upper),
            WTerm("vin8", upper),
        ]
        plate = normalize_plate(words)
        alternatives += [WTerm("plate", plate), WTerm("plate_tail", plate)]
        number = digits(words)
        if number and len(number) in (4, 11):
            alternatives.append(WTerm("phone4" if len(number) == 4 else "phone", number))
        return Or(alternatives)

    def close(self) -> None:
        self.ix.close()
