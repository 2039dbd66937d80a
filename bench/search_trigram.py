"""pg_trgm beside the PostgreSQL engine's tsvector: the free-word queries of the search bench
over a trigram GIN index of the same texts (``ILIKE '%word%'``, each word or a synonym, newest
first), timed the same way, with both indexes' sizes and build times.

Only the queries made of words (no ``key:value`` filter but ``sort:``) are comparable: the
filters are the same array look-ups in either design. Called by ``bench/search.py --trigram``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import psycopg

from projections.search.words import with_synonyms

TRIGRAM_INDEX = "entries_text_trgm"
ALLTEXT = "(text || ' ' || customer || ' ' || labels)"  # what the tsvector holds the words of


def word_queries(mix: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """The queries of Chinese words only (numbers, plates and VINs are exact keys in either
    design; a name is a word)."""
    chosen = []
    for label, text in mix:
        words = [w for w in text.split() if not w.startswith("sort:")]
        if words and all(w.isalpha() and not w.isascii() and ":" not in w for w in words):
            chosen.append((label, words))
    return chosen


def trigram_sql(words: list[str]) -> tuple[str, list[str]]:
    """Each typed word (or a synonym of it) somewhere in the text, customer or labels."""
    parts, params = [], []
    for word in words:
        synonyms = with_synonyms(word)
        parts.append("(" + " OR ".join([f"{ALLTEXT} ILIKE %s"] * len(synonyms)) + ")")
        params += [f"%{s}%" for s in synonyms]
    return " AND ".join(parts), params


def compare_trigram(
    url: str,
    mix: list[tuple[str, str]],
    runs: int,
    percentile: Callable[[list[float], float], float],
) -> None:
    with psycopg.connect(url, autocommit=True, options="-c search_path=search") as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        conn.execute("SET maintenance_work_mem = '256MB'")
        started = time.perf_counter()
        conn.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
        conn.execute(
            f"CREATE INDEX {TRIGRAM_INDEX} ON entries USING gin ({ALLTEXT} public.gin_trgm_ops)"
        )
        conn.execute("ANALYZE entries")
        built = time.perf_counter() - started
        sizes = conn.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'search.entries'::regclass ORDER BY 1"
        ).fetchall()
        print(f"\npg_trgm: trigram GIN index built in {built:.1f} s; index sizes:")
        for name, size in sizes:
            print(f"  {name:<40} {size / 1e6:>8.1f} MB")
        print(f"pg_trgm: {runs} runs per query (ms), newest first")
        print(f"  {'query':<24} {'words':<34} {'hits':>7} {'p50':>8} {'p95':>8}")
        pooled: list[float] = []
        for label, words in word_queries(mix):
            where, params = trigram_sql(words)
            where += " AND entry = 'current' AND NOT doc_voided"
            samples, total = [], 0
            for run in range(runs + 1):
                started = time.perf_counter()
                total = conn.execute(f"SELECT count(*) FROM entries WHERE {where}", params)
                total = total.fetchone()[0]
                conn.execute(
                    f"SELECT doc_id, text FROM entries WHERE {where} "
                    "ORDER BY business_date DESC, key DESC LIMIT 20",
                    params,
                ).fetchall()
                if run:  # the first is the warm-up
                    samples.append((time.perf_counter() - started) * 1000)
            pooled += samples
            print(
                f"  {label:<24} {' '.join(words):<34} {total:>7,} "
                f"{statistics.median(samples):>8.1f} {percentile(samples, 0.95):>8.1f}"
            )
        print(
            f"  {'the words':<24} {'':<34} {'':>7} "
            f"{statistics.median(pooled):>8.1f} {percentile(pooled, 0.95):>8.1f}"
        )
