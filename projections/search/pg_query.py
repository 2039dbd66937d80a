"""The query language's tree as SQL over the PostgreSQL engine's entries: words as a
``tsquery`` on ``terms``, exact values as ``keys && ARRAY[...]`` (both in one GIN index),
dates as a range of ``business_date``."""

from __future__ import annotations

from typing import Any

from projections.search.backend import day_number, word_lookups
from projections.search.pg_schema import Analysis, key, tsquery
from projections.search.query import AllOf, AnyOf, DateRange, Node, Not, Query, Term, Text
from projections.search.words import with_synonyms

# A voided document is left out of nearly every query: asked as the key every entry has
# (``doc_voided:no``), which an index answers, rather than as the absence of another.
NOT_VOIDED = Not(Term("doc_voided", "yes"))


class SqlQuery:
    """A parsed query as a WHERE clause with its parameters; the words found (for snippets)
    and the words a relevance rank counts."""

    def __init__(self, query: Query, analysis: Analysis) -> None:
        self._analysis = analysis
        self.params: list[Any] = []
        self.terms: list[str] = []
        self.ranked: list[str] = []
        parts = [] if query.history else ["keys @> '{entry:current}'::text[]"]
        parts += [p for p in (self._sql(n, True) for n in query.where.parts) if p]
        self.where = " AND ".join(parts) or "TRUE"
        # The days every hit lies between, when the query asks for a date range: the walk
        # of the dates that finds the newest hits starts at its end.
        ranges = [n for n in query.where.parts if isinstance(n, DateRange)]
        self.span = (
            (max(day_number(r.start) for r in ranges), min(day_number(r.end) for r in ranges))
            if ranges
            else None
        )

    def _sql(self, node: Node, positive: bool) -> str:
        if isinstance(node, AllOf):
            parts = [p for p in (self._sql(n, positive) for n in node.parts) if p]
            return "(" + " AND ".join(parts) + ")" if parts else ""
        if isinstance(node, AnyOf):
            return self._any(node.parts, positive)
        if node == NOT_VOIDED:
            return "keys @> '{doc_voided:no}'::text[]"
        if isinstance(node, Not):
            inner = self._sql(node.part, False)
            return f"NOT {inner}" if inner else ""
        if isinstance(node, Term):
            return self._any((node,), positive)
        if isinstance(node, DateRange):
            self.params += [day_number(node.start), day_number(node.end)]
            return f"({node.field} BETWEEN %s AND %s)"
        if isinstance(node, Text):
            return self._text(node.words, positive)
        raise TypeError(node)

    def _any(self, nodes: tuple[Node, ...], positive: bool) -> str:
        """Alternatives: the exact values among them as one array overlap (one index
        look-up), the rest each on its own."""
        values = [
            key("number_key" if n.field == "number" else n.field, n.value)
            for n in nodes
            if isinstance(n, Term)
        ]
        parts = []
        if values:
            self.params.append(values)
            parts.append("keys && %s::text[]")
        parts += [self._sql(n, positive) for n in nodes if not isinstance(n, Term)]
        return "(" + " OR ".join(p for p in parts if p) + ")"

    def _text(self, words: str, positive: bool) -> str:
        """A typed word: its Chinese words (each, or a synonym, in any text field), or one of
        the exact keys it may be."""
        lookups = [key(f, v) for f, v in word_lookups(words)]
        groups = [with_synonyms(t) for t in self._analysis.query_terms(words)]
        if not groups:
            self.params.append(lookups)
            return "(keys && %s::text[])"
        if positive:
            for group in groups:
                self.terms.extend(group)
                self.ranked.extend(group)
        self.params += [tsquery(groups), lookups]
        return "(terms @@ %s::tsquery OR keys && %s::text[])"

    def rank_query(self) -> str:
        """Any of the positive words: an entry with more of them ranks higher."""
        return tsquery([tuple(dict.fromkeys(self.ranked))])
