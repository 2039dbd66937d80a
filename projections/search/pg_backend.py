"""The PostgreSQL engine behind the search seam, for several servers on one database.

The same entries, exact keys and jieba terms as the Whoosh and Tantivy engines
(``pg_schema``), the same query language (``pg_query``): every server reads one index, and
any number of workers keep it following the log.

- A write is one transaction: the entries and the log position (the ``search.state`` row,
  locked ``FOR UPDATE`` while writing, so a second writer anywhere is told the projection is
  busy instead of applying the same events).
- A rebuild loads a fresh table with ``COPY``, builds its indexes once, and swaps it in for
  the live one by name, all in one transaction: searches meanwhile read the old table.

Why ``tsvector`` + GIN and not ``pg_trgm`` (both measured at 200,000 documents by
``bench/search.py --engine postgres --trigram``): a trigram index cannot look up anything
shorter than three characters, and most Chinese words are two (刹车, 保养, 天窗, a name like
毛涛), so ``ILIKE '%天窗%'`` read every row: 7.5 s a query, against 78 ms for the same word
as a lexeme. A substring is not a word either (毛涛 matched 26 texts as a substring, 16 as a
word), and the other engines' answers are jieba's words.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from psycopg import Connection
from psycopg.errors import LockNotAvailable
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.runner import ProjectionBusy
from projections.search.backend import (
    Hit,
    IndexEntry,
    IndexWriter,
    SearchBackend,
    SearchResult,
)
from projections.search.pg_query import SqlQuery
from projections.search.pg_schema import (
    COLUMNS,
    ENTRIES,
    SCHEMA,
    SCHEMA_VERSION,
    STAFF,
    STATE,
    TABLES,
    Analysis,
    entries_indexes,
    entries_table,
    entry_row,
)
from projections.search.query import Query
from projections.search.snippets import snippet

_CASTS = {"flags": "text[]", "staff": "text[]", "signers": "text[]", "terms": "tsvector"}
_UPSERT = (
    f"INSERT INTO {ENTRIES} ({', '.join(COLUMNS)}) VALUES ("
    + ", ".join(f"%s::{_CASTS[c]}" if c in _CASTS else "%s" for c in COLUMNS)
    + ") ON CONFLICT (key) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "key")
)
_HIT_COLUMNS = "doc_id, kind, number, version, entry, business_date, status, flags, text"
# How long a writer waits for another to finish before the runner is told it is busy
# (a rebuild waits longer: it is asked for by hand).
WRITER_WAIT = "1s"
# A relevance-sorted answer ranks the newest this many hits (more when paged further): what
# a desk asks about is mostly recent, and ranking is per hit. Whoosh and Tantivy rank all.
RANKED_NEWEST = 1000
# A relevance answer whose backwards walk of the dates would read more rows than this reads
# the words' index for the newest entries first (``_ranked``). Below it the walk won at
# 200,000 documents: three words in half the archive (estimated in a quarter) walked 2,100
# rows in 16 ms, and read 3,800 hits since a date in 75.
BOUNDED_WALK = 5_000
# Hits are counted up to this many; past it an answer says "more than" (``total_capped``).
# 1,000 as measured at 200,000 documents: counting 10,000 took 45-135 ms for a common word,
# 1,000 15-50 ms; and a relevance answer ranks the newest 1,000 (RANKED_NEWEST) anyway.
TOTAL_CAP = 1_000
REBUILD_WAIT = "30s"


class _Writer(IndexWriter):
    def __init__(self, conn: Connection, analysis: Analysis, position: int) -> None:
        self._conn = conn
        self._analysis = analysis
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._staff: dict[str, str] = {}
        self.position = position

    def put(self, entry: IndexEntry) -> None:
        self._rows[entry.key] = entry_row(entry, self._analysis)

    def put_staff(self, username: str, name: str) -> None:
        self._staff[username] = name

    def flush(self) -> None:
        with self._conn.cursor() as cur:
            if self._rows:
                cur.executemany(_UPSERT, list(self._rows.values()))
            if self._staff:
                cur.executemany(
                    f"INSERT INTO {STAFF} (username, name) VALUES (%s, %s) "
                    "ON CONFLICT (username) DO UPDATE SET name = EXCLUDED.name",
                    list(self._staff.items()),
                )
            cur.execute(f"UPDATE {STATE} SET position = %s WHERE id = 1", (self.position,))


class PgSearchBackend(SearchBackend):
    """The index in the database at ``url`` (``postgresql://...``)."""

    def __init__(self, url: str, pool_size: int = 4, total_cap: int = TOTAL_CAP) -> None:
        self.url = url
        self.total_cap = total_cap
        self._analysis = Analysis()
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "options": f"-c search_path={SCHEMA}",
            },
            open=True,
        )
        self._settle()

    def _settle(self) -> None:
        """Make the tables, or make them again when they were made by another version of
        this code (the runner then replays the log into them). Under an advisory lock:
        servers and workers may start at the same moment."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{SCHEMA} schema",))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            for statement in TABLES.values():
                conn.execute(statement)
            state = conn.execute(f"SELECT schema FROM {STATE} WHERE id = 1").fetchone()
            present = conn.execute(
                "SELECT to_regclass(%s) AS t", (f"{SCHEMA}.{ENTRIES}",)
            ).fetchone()
            if state and state["schema"] == SCHEMA_VERSION and present["t"]:
                return
            conn.execute(f"DROP TABLE IF EXISTS {ENTRIES}")
            conn.execute(entries_table(ENTRIES))
            conn.execute(f"ALTER TABLE {ENTRIES} ADD PRIMARY KEY (key)")
            for statement in entries_indexes(ENTRIES):
                conn.execute(statement)
            conn.execute(f"DELETE FROM {STAFF}")
            conn.execute(
                f"INSERT INTO {STATE} (id, position, schema) VALUES (1, 0, %s) "
                "ON CONFLICT (id) DO UPDATE SET position = 0, schema = EXCLUDED.schema",
                (SCHEMA_VERSION,),
            )

    @staticmethod
    def _hold(conn: Connection, wait: str) -> int:
        """Lock the state row for this transaction and read the position; another writer
        holding it for longer than ``wait`` makes the projection busy."""
        conn.execute(f"SET LOCAL lock_timeout = '{wait}'")
        try:
            row = conn.execute(f"SELECT position FROM {STATE} WHERE id = 1 FOR UPDATE").fetchone()
        except LockNotAvailable:
            raise ProjectionBusy("search") from None
        conn.execute("SET LOCAL lock_timeout = 0")
        return int(row["position"])

    # -- writing --------------------------------------------------------------------------

    def position(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(f"SELECT position FROM {STATE} WHERE id = 1").fetchone()
        return int(row["position"]) if row else 0

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        with self.pool.connection() as conn, conn.transaction():
            wrapped = _Writer(conn, self._analysis, self._hold(conn, WRITER_WAIT))
            yield wrapped
            wrapped.flush()

    def replace_all(
        self, entries: Iterable[IndexEntry], staff: Mapping[str, str], position: int
    ) -> None:
        fresh = f"{ENTRIES}_{uuid.uuid4().hex[:12]}"
        with self.pool.connection() as conn, conn.transaction():
            self._hold(conn, REBUILD_WAIT)
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            conn.execute(entries_table(fresh))
            with conn.cursor().copy(f"COPY {fresh} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for entry in entries:
                    copy.write_row(entry_row(entry, self._analysis))
            conn.execute(f"ALTER TABLE {fresh} ADD PRIMARY KEY (key)")
            for statement in entries_indexes(fresh):
                conn.execute(statement)
            conn.execute(f"ANALYZE {fresh}")
            conn.execute(f"DROP TABLE {ENTRIES}")
            conn.execute(f"ALTER TABLE {fresh} RENAME TO {ENTRIES}")
            conn.execute(f"DELETE FROM {STAFF}")
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {STAFF} (username, name) VALUES (%s, %s)", list(staff.items())
                )
            conn.execute(f"UPDATE {STATE} SET position = %s WHERE id = 1", (position,))
        with self.pool.connection() as conn:
            # Outside the transaction (VACUUM cannot run in one): marks the pages all-visible,
            # so counting hits need not read them.
            conn.execute(f"VACUUM {ENTRIES}")

    def clear(self) -> None:
        self.replace_all([], {}, 0)

    def staff_names(self) -> dict[str, str]:
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT username, name FROM {STAFF}").fetchall()
        return {r["username"]: r["name"] for r in rows}

    def entries(self) -> Iterator[dict[str, Any]]:
        stored = [c for c in COLUMNS if c not in ("terms", "keys")]
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT {', '.join(stored)} FROM {ENTRIES} ORDER BY key")
            return iter(rows.fetchall())

    # -- searching ------------------------------------------------------------------------

    def search(self, query: Query, page: int = 1, page_size: int = 20) -> SearchResult:
        page = max(page, 1)
        sql = SqlQuery(query, self._analysis)
        by_date = query.sort == "date" or not query.has_text or not sql.ranked
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            total = self._count(conn, sql)
            capped = total > self.total_cap
            total = min(total, self.total_cap)
            # How many there are past the cap, to choose how to find the newest: the
            # planner's estimate (within 2x of the truth for the bench's common words).
            hits = max(total + 1, self._estimate(conn, sql)) if capped else total
            skipped = (page - 1) * page_size
            if skipped >= total:
                return SearchResult(total, page, page_size, (), capped)
            limit = min(page_size, total - skipped)
            if by_date:
                order = self._newest_first(conn, sql, hits, page * page_size)
                rows = conn.execute(
                    f"SELECT {_HIT_COLUMNS}, 0.0 AS score FROM {ENTRIES} WHERE {sql.where} "
                    f"ORDER BY {order} LIMIT %s OFFSET %s",
                    [*sql.params, limit, skipped],
                ).fetchall()
            else:
                # Ranked among the newest hits only (enough for the page asked): ts_rank
                # reads every hit's terms, and a word in half the archive took seconds.
                newest = max(RANKED_NEWEST, page * page_size)
                rows = self._ranked(conn, sql, hits, capped, newest, limit, skipped)
        found = tuple(self._hit(row, sql.terms) for row in rows)
        return SearchResult(total, page, page_size, found, capped)

    def _count(self, conn: Connection, sql: SqlQuery) -> int:
        """The hits up to one past the cap, read through the indexes' bitmap. An exact count
        of a word in half the archive took 0.7-2.2 s at 200,000 documents; left to itself
        with the limit, the planner read the table from its start until it had enough
        (120-180 ms for a common word, against 15-50 ms through the bitmap)."""
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_indexscan = off")
        total = conn.execute(
            f"SELECT count(*) AS n FROM (SELECT 1 FROM {ENTRIES} WHERE {sql.where} "
            "LIMIT %s) AS hits",
            [*sql.params, self.total_cap + 1],
        ).fetchone()["n"]
        conn.execute("RESET enable_seqscan")
        conn.execute("RESET enable_indexscan")
        return int(total)

    @staticmethod
    def _estimate(conn: Connection, sql: SqlQuery) -> int:
        plan = conn.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {ENTRIES} WHERE {sql.where}", sql.params
        ).fetchone()["QUERY PLAN"]
        return int(plan[0]["Plan"]["Plan Rows"])

    def _ranked(
        self,
        conn: Connection,
        sql: SqlQuery,
        hits: int,
        capped: bool,
        newest: int,
        limit: int,
        skipped: int,
    ) -> list[dict[str, Any]]:
        """A page of the newest ``newest`` of about ``hits`` hits, by relevance. When a
        backwards walk of the dates would read many rows (a word in a tenth of the archive:
        11,000 rows, 100-130 ms at 200,000 documents), the words' index is read first for
        the entries since a date that should hold twice the hits needed (25-35 ms), and
        again without that bound only if they fall short."""
        walked = newest * self._entries(conn, sql) / max(hits, 1)  # rows a walk reads
        order = self._newest_first(conn, sql, hits, newest)
        tries: list[tuple[str, list[Any]]] = [("", [])]
        if not order.startswith("business_date +") and walked > BOUNDED_WALK:
            last = sql.span[1] if sql.span else 99991231
            since = conn.execute(
                f"SELECT business_date FROM {ENTRIES} WHERE business_date <= %s "
                "ORDER BY business_date DESC, key DESC OFFSET %s LIMIT 1",
                [last, round(2 * walked)],
            ).fetchone()
            if since:
                tries.insert(0, (" AND business_date >= %s", [since["business_date"]]))
        rows: list[dict[str, Any]] = []
        for bound, bound_params in tries:
            # Bounded: the words' bitmap and the dates' together, not a walk of the dates.
            conn.execute("SET LOCAL enable_indexscan = off" if bound else "RESET enable_indexscan")
            rows = conn.execute(
                f"SELECT {_HIT_COLUMNS}, ts_rank(terms, %s::tsquery, 1) AS score, "
                "count(*) OVER () AS found FROM ("
                f"SELECT * FROM {ENTRIES} WHERE {sql.where}{bound} ORDER BY {order} LIMIT %s"
                ") AS found ORDER BY score DESC, business_date DESC, key DESC LIMIT %s OFFSET %s",
                [sql.rank_query(), *sql.params, *bound_params, newest, limit, skipped],
            ).fetchall()
            found = rows[0]["found"] if rows else 0
            if found >= newest or (not capped and found >= hits):
                break
        conn.execute("RESET enable_indexscan")
        return rows

    @staticmethod
    def _entries(conn: Connection, sql: SqlQuery) -> float:
        """The entries a walk of the dates goes through: all, or those of the query's date
        range (the planner's estimate). A year's range read as all 200,000 entries made a
        word in it seem sparse, and reading all its 10,000 hits took 100 ms, walking 25."""
        if sql.span:
            plan = conn.execute(
                f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {ENTRIES} "
                "WHERE business_date BETWEEN %s AND %s",
                list(sql.span),
            ).fetchone()["QUERY PLAN"]
            return max(float(plan[0]["Plan"]["Plan Rows"]), 1.0)
        return conn.execute(
            "SELECT greatest(reltuples, 1) AS n FROM pg_class WHERE oid = %s::regclass",
            (f"{SCHEMA}.{ENTRIES}",),
        ).fetchone()["n"]

    @classmethod
    def _newest_first(cls, conn: Connection, sql: SqlQuery, total: int, newest: int) -> str:
        """How to find the newest ``newest`` of ``total`` hits: walking the dates' index
        backwards reads about ``newest * entries / total`` rows, the words' index reads all
        ``total`` hits; the walk wins when the hits are dense. Measured at 1,000,000
        entries: left to the planner, it walked the dates for a number prefix of 8,580 hits
        (10 s); never walking, a word in half the archive took 14 s instead of 8."""
        dense = total * total >= newest * cls._entries(conn, sql)
        return "business_date DESC, key DESC" if dense else "business_date + 0 DESC, key DESC"

    @staticmethod
    def _hit(row: dict[str, Any], terms: list[str]) -> Hit:
        day = str(row["business_date"])
        return Hit(
            doc_id=row["doc_id"],
            kind=row["kind"],
            number=row["number"],
            version=row["version"],
            entry=row["entry"],
            business_date=f"{day[:4]}-{day[4:6]}-{day[6:]}" if len(day) == 8 else "",
            status=row["status"],
            flags=tuple(sorted(row["flags"])),
            score=float(row["score"]),
            snippet=snippet(row["text"], terms),
        )

    def close(self) -> None:
        self.pool.close()
