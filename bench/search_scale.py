"""The PostgreSQL engine's index made ``copies`` times as large without indexing again: every
entry copied with a new key and document id, ``n`` years earlier (``business_date``), its
words and exact keys unchanged. So each word, number and plate is found ``copies`` times as
often as in the corpus: harder than an archive that size, where numbers and plates differ.
Called by ``bench/search.py --engine postgres --copies N`` to time the mix at N x the corpus
where filing N x the corpus through the write path would take hours.
"""

from __future__ import annotations

import time

import psycopg

from projections.search.pg_schema import COLUMNS


def enlarge(url: str, copies: int) -> int:
    """Copy the entries ``copies - 1`` times; return how many entries there are then."""
    shifted = {
        "key": "key || '#' || %(n)s",
        "doc_id": "doc_id || '#' || %(n)s",
        "business_date": "business_date - 10000 * %(n)s",
    }
    select = ", ".join(shifted.get(c, c) for c in COLUMNS)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True, options="-c search_path=search") as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        base = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        # Indexes built again once the rows are in, as a rebuild does (quicker than growing
        # them row by row).
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'search' "
            "AND tablename = 'entries' AND indexname NOT LIKE '%%pkey'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        for n in range(1, copies):
            conn.execute(
                f"INSERT INTO entries ({', '.join(COLUMNS)}) "
                f"SELECT {select} FROM entries WHERE key NOT LIKE '%%#%%'",
                {"n": n},
            )
            print(f"  copy {n} of {copies - 1}: {time.perf_counter() - started:.0f} s", flush=True)
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE entries")
        total = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    seconds = time.perf_counter() - started
    print(f"index enlarged from {base:,} to {total:,} entries in {seconds:.0f} s")
    return total
