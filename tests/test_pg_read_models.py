"""Read models in PostgreSQL (issue 16): the SQL seam, the projection lock, shapes, opening at
once from several machines, and every server reading the same rows."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from archive import commands
from archive.bootstrap import LEDGER_SCHEMA, READ_MODELS_SCHEMA, open_archive
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from projections.database import PostgresDatabase, PostgresSchema
from projections.ledger import Ledger
from projections.runner import LogReader, ProjectionBusy, catch_up
from projections.scans import ScanIndex
from projections.sqlstore import SqliteProjection
from projections.vehicles import VehicleHistory
from tests.support import VALID_VIN, register_team, work_order

pytestmark = pytest.mark.postgres


def test_the_seam_runs_sqlite_sql_and_reads_rows_like_sqlite(postgres_url: str) -> None:
    db = PostgresDatabase(PostgresSchema(postgres_url, "seam"))
    try:
        with db.transaction("opening") as conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS seam")
            conn.execute(db.ddl("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c BLOB)"))
        conn = db.conn
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(2**40, "50%?", b"\x00\x01"), (2**40, "again", b""), (1, "x'?", None)],
        )
        row = conn.execute(
            "SELECT a, b, c, '?%' AS q FROM t WHERE b LIKE '50%' AND a = ?", (2**40,)
        ).fetchone()
        # By position, by name, unpacked, as a dict: as sqlite3.Row is read.
        assert row[0] == row["a"] == 2**40  # INTEGER is 64-bit, as on SQLite
        assert (row["b"], bytes(row["c"]), row["q"]) == ("50%?", b"\x00\x01", "?%")
        a, b, _, _ = row
        assert dict(row) == {"a": a, "b": b, "c": b"\x00\x01", "q": "?%"}
        assert db.tuples("SELECT a FROM t ORDER BY a") == [(1,), (2**40,)]
        assert conn.execute("SELECT b FROM t WHERE replace(b, ?, '') <> b", ("'",)).fetchall()
    finally:
        db.close()


def test_a_second_writer_is_told_busy_and_reads_the_position_under_the_lock(
    postgres_url: str,
) -> None:
    where = PostgresSchema(postgres_url, READ_MODELS_SCHEMA)
    first, second = ScanIndex(where), ScanIndex(where)  # two servers, one projection
    try:
        with first.batch() as batch:
            batch.position = 7
            with pytest.raises(ProjectionBusy), second.batch():
                pass
            assert second.position() == 0  # not committed yet
        with second.batch() as batch:
            assert batch.position == 7
        # Another projection of the same schema is not held up by this one's lock.
        vehicles = VehicleHistory(where)
        with first.batch(), vehicles.batch() as other:
            assert other.position == 0
        vehicles.close()
    finally:
        first.close()
        second.close()


def test_every_server_reads_the_same_rows_and_nothing_is_kept_in_files(
    postgres_url: str, tmp_path: Path
) -> None:
    one = open_archive(Settings(home=tmp_path / "one", database_url=postgres_url))
    two = open_archive(Settings(home=tmp_path / "two", database_url=postgres_url))
    try:
        register_team(one)
        commands.file_document(one, "work_order", work_order(), "admin")
        with one.read_models() as models:
            models.runner.catch_up()
        with two.read_models() as models:  # another machine: nothing left to follow
            lag = {s.name: s.lag for s in models.runner.status() if s.name != "search"}
            assert set(lag.values()) == {0}, lag
            assert models.worklists.document("work_order", "WO-0001") is not None
            assert models.vehicles.card(VALID_VIN)
            assert len(models.ledger.leaf_hashes()) == two.app.head()
        for home in (tmp_path / "one", tmp_path / "two"):
            assert not (home / "projections.db").exists()
            assert not (home / "ledger.db").exists()
        assert isinstance(one.ledger_location, PostgresSchema)
        assert one.ledger_location.schema == LEDGER_SCHEMA != READ_MODELS_SCHEMA
    finally:
        one.close()
        two.close()


class NewShapeVehicles(VehicleHistory):
    shape = VehicleHistory.shape + 1


def test_a_new_shape_drops_and_remakes_the_tables_on_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    archive = open_archive(Settings(home=tmp_path / "home", database_url=postgres_url))
    try:
        register_team(archive)
        commands.file_document(archive, "work_order", work_order(), "admin")
        where = archive.read_models_location
        vehicles = VehicleHistory(where)
        catch_up(vehicles, LogReader(archive.app))
        before = sorted(tuple(r) for r in vehicles.query("SELECT * FROM vehicle_summaries"))
        vehicles.conn.execute("ALTER TABLE vehicle_records DROP COLUMN plate_tail")
        vehicles.close()
        remade = NewShapeVehicles(where)
        try:
            assert remade.position() == 0  # the rows are gone, to be replayed from the log
            catch_up(remade, LogReader(archive.app))
            after = sorted(tuple(r) for r in remade.query("SELECT * FROM vehicle_summaries"))
            assert after == before
            assert remade.query("SELECT plate_tail FROM vehicle_records")
        finally:
            remade.close()
    finally:
        archive.close()


def test_servers_opening_at_once_make_the_tables_once(postgres_url: str) -> None:
    """Servers on different machines share no home, so no file lock: the schema's opening
    lock makes them take turns in PostgreSQL's catalogue."""
    problems: list[BaseException] = []
    start = threading.Barrier(4)

    def open_all(n: int) -> None:
        try:
            start.wait()
            where = PostgresSchema(postgres_url, READ_MODELS_SCHEMA)
            witness = PostgresSchema(postgres_url, LEDGER_SCHEMA)
            opened = [VehicleHistory(where), ScanIndex(where), Ledger(witness, None)]  # type: ignore[arg-type]
            for projection in opened:
                projection.close()
        except BaseException as error:
            problems.append(error)

    threads = [threading.Thread(target=open_all, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []


def test_a_server_leaving_the_shared_models_to_workers_still_reads_its_writes(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=postgres_url, follow_log=False)
    archive = open_archive(settings)
    try:
        register_team(archive)
        with archive.read_models() as models:
            models.follow(interval=0.05)  # as `archive serve --no-follow` does
            commands.file_document(archive, "work_order", work_order(), "admin")
            head = archive.app.head()
            deadline = time.monotonic() + 30
            while models.search.position() < head and time.monotonic() < deadline:
                time.sleep(0.05)
            assert models.search.position() == head  # this machine's index: followed
            assert models.vehicles.position() < head  # shared: left to workers
            # A page after a filing waits for its write, catching up itself if no worker did.
            assert models.runner.wait_for(timeout=30)
            assert models.vehicles.card(VALID_VIN)
    finally:
        archive.close()


def test_every_sql_read_model_holds_on_postgresql_what_it_holds_on_sqlite(
    postgres_url: str, tmp_path: Path
) -> None:
    """One demo filed into each store: every table of every SQL projection (the reports' too)
    has the same rows on both."""
    held = {}
    for backend, url in (("sqlite", None), ("postgres", postgres_url)):
        archive = open_archive(Settings(home=tmp_path / backend, database_url=url))
        try:
            load(archive, generate(DemoSpec(month="2026-10", work_orders=12)))
            with archive.read_models() as models:
                models.runner.catch_up()
                held[backend] = {
                    table: sorted(map(_comparable, p.query(f"SELECT * FROM {table}")))
                    for p in models.runner
                    if isinstance(p, SqliteProjection)
                    for table in p.tables
                }
        finally:
            archive.close()
    assert held["postgres"].keys() == held["sqlite"].keys()
    for table, rows in held["sqlite"].items():
        assert held["postgres"][table] == rows, table


def _comparable(row: Any) -> tuple[str, ...]:
    return tuple(repr(bytes(v) if isinstance(v, memoryview) else v) for v in row)
