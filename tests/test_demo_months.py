"""A demo of several months: unique numbers across them, nothing after its clock, and all or
nothing on both stores."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from typer.testing import CliRunner

from archive import queries
from archive.bootstrap import open_archive, open_read_models
from archive.cli import app
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.demo.fresh import load_all_or_nothing
from archive.demo.ops import AmendDocument, FileDocument, SignDocument, SubmitClaim
from archive.demo.span import demo_spec
from archive.errors import ArchiveError, BadInput

TZ = ZoneInfo("Asia/Shanghai")
THREE = DemoSpec(month="2026-11", months=3, work_orders=40)
# The clock in the middle of a working day of November (Beijing 2026-11-12 14:00).
CLOCK = datetime(2026, 11, 12, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def three_months():
    return generate(THREE)


def test_months_are_consecutive_and_end_with_the_month() -> None:
    assert THREE.month_list() == ["2026-09", "2026-10", "2026-11"]
    assert DemoSpec(month="2026-02", months=3).month_list() == ["2025-12", "2026-01", "2026-02"]


def test_numbers_are_unique_across_months(three_months) -> None:
    filed = [op for op in three_months.operations if isinstance(op, FileDocument)]
    keys = [(op.kind, op.number) for op in filed]
    assert len(keys) == len(set(keys))
    months = {op.data["business_date"][:7] for op in filed if op.kind == "work_order"}
    assert months == {"2026-09", "2026-10", "2026-11"}
    claim_nos = [op.claim_no for op in three_months.operations if isinstance(op, SubmitClaim)]
    assert len(claim_nos) == len(set(claim_nos))
    vins = {op.data["vin"] for op in filed if "vin" in op.data}
    assert len({vin[-8:] for vin in vins}) == len(vins)  # first-service vouchers: SB + last 8
    assert len(three_months.facts.odometer_anomalies) == 3  # one per month


def test_cars_come_back_in_later_months_with_more_kilometres(three_months) -> None:
    mileage: dict[str, int] = {}  # the work order's mileage once corrected
    visits: dict[str, tuple[str, str]] = {}  # number -> (VIN, date)
    for op in three_months.operations:
        if op.kind != "work_order":
            continue
        if isinstance(op, FileDocument):
            mileage[op.number] = int(op.data["mileage_km"])
            visits[op.number] = (op.data["vin"], op.data["business_date"])
        elif isinstance(op, AmendDocument) and "mileage_km" in op.changes:
            mileage[op.number] = int(op.changes["mileage_km"])
    anomalies = {later for _, _, later in three_months.facts.odometer_anomalies}
    seen: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for number, (vin, day) in visits.items():
        if number not in anomalies:
            seen[vin].append((day, mileage[number]))
    across = [sorted(v) for v in seen.values() if len({day[:7] for day, _ in v}) > 1]
    assert len(across) >= 5
    for car in across:
        for (day1, km1), (day2, km2) in itertools.pairwise(car):
            if day1[:7] != day2[:7]:
                assert km2 > km1, car


def test_nothing_after_the_clock() -> None:
    plan = generate(DemoSpec(month="2026-11", months=2, work_orders=40, until=CLOCK))
    assert max(op.at for op in plan.operations) <= CLOCK
    days = {
        op.data["business_date"]
        for op in plan.operations
        if isinstance(op, FileDocument) and op.kind == "work_order"
    }
    assert "2026-11-09" <= max(days) <= "2026-11-12" and min(days) < "2026-10-05"
    whole = generate(DemoSpec(month="2026-11", months=2, work_orders=40))
    # The same store, stopped at the clock: what happened before it is the same.
    assert plan.operations == tuple(op for op in whole.operations if op.at <= CLOCK)
    submitted = {op.number for op in plan.operations if isinstance(op, SubmitClaim)}
    assert set(plan.facts.late_claims) <= submitted


def test_the_spec_follows_the_clock() -> None:
    spec = demo_spec(CLOCK, TZ, months=24)
    assert spec.month == "2026-11" and spec.months == 24 and spec.until == CLOCK
    assert spec.month_list()[0] == "2024-12"
    assert demo_spec(CLOCK, TZ).month == "2026-10"  # alone: the last complete month
    assert demo_spec(CLOCK, TZ, month="2026-9").month == "2026-09"
    until = demo_spec(CLOCK, TZ, months=2, until=date(2026, 10, 20))
    assert until.month == "2026-10"
    assert until.until == datetime(2026, 10, 20, 15, 59, 59, tzinfo=UTC)  # 23:59:59 Beijing
    for wrong in (
        {"until": date(2026, 11, 13)},
        {"month": "2026-12"},
        {"month": "11/2026"},
        {"months": 0},
        {"work_orders": 5},
    ):
        with pytest.raises(BadInput) as refused:
            demo_spec(CLOCK, TZ, **wrong)  # type: ignore[arg-type]
        assert refused.value.problems and refused.value.message_zh


def _blob_files(settings: Settings) -> list[Path]:
    return [p for p in settings.layout.blobs.rglob("*") if p.is_file()]


def _database(url: str | None) -> dict[str, list[tuple]]:
    """Every table of the database and its rows (PostgreSQL; nothing for SQLite)."""
    if url is None:
        return {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE "
            "table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', "
            "'information_schema')"
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                repr(r) for r in conn.execute(f'SELECT * FROM "{schema}"."{name}"')
            )
            for schema, name in tables
        }


def test_a_failed_demo_leaves_the_archive_empty(store_settings: Settings) -> None:
    plan = generate(DemoSpec(month="2026-10", work_orders=20))
    broken = (*plan.operations[:300], plan.operations[0])  # files a document twice
    assert any(op.kind == "work_order" for op in broken[:300])
    url = store_settings.database_url
    if url is not None:  # on an empty database: nothing left but the (empty) event table
        with pytest.raises(ArchiveError):
            load_all_or_nothing(store_settings, lambda a: load(a, generate_with(plan, broken)))
        assert [t for t, rows in _database(url).items() if rows or "event" not in t] == []
    initialised = open_archive(store_settings)  # as archive init and a server leave it
    open_read_models(initialised).close()
    initialised.close()
    found = _database(store_settings.database_url)
    with pytest.raises(ArchiveError):
        load_all_or_nothing(
            store_settings, lambda a: load(a, generate_with(plan, broken), password="demo-2026")
        )
    # On PostgreSQL the read models, search, scans, checkpoints and jobs share the database:
    # all of it as it was found, not only the events.
    assert _database(store_settings.database_url) == found
    archive = open_archive(store_settings)
    try:
        assert archive.app.head() == 0
        assert not _blob_files(store_settings)
        assert not [p for p in store_settings.layout.home.iterdir() if p.name.startswith(".demo")]
    finally:
        archive.close()
    # The same archive takes a demo afterwards, its log starting again at 1.
    summary = load_all_or_nothing(store_settings, lambda a: load(a, plan))
    archive = open_archive(store_settings)
    try:
        assert archive.app.recorder.select_notifications(start=1, limit=1)[0].id == 1
        assert archive.app.head() >= len(plan.operations)
        assert len(_blob_files(store_settings)) >= summary.scans
        number = plan.documents()["work_order"][0]
        assert queries.show(archive, "work_order", number)["number"] == number
    finally:
        archive.close()


def generate_with(plan, operations):
    from dataclasses import replace

    return replace(plan, operations=operations)


def test_cli_demo_months_until_and_refusals(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(tmp_path / "home")}

    def demo(*args: str):
        return runner.invoke(app, ["demo", *args], env=env)

    refused = demo("--months", "2", "--until", "2999-01-01")
    assert refused.exit_code == 2 and "--until" in refused.output
    assert runner.invoke(app, ["is-empty"], env=env).exit_code == 0
    done = demo("--months", "2", "--until", "2026-10-08", "--work-orders", "20", "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["month"] == "2026-10" and summary["months"] == 2
    assert summary["documents"]["work_order"] > 20
    assert runner.invoke(app, ["is-empty"], env=env).exit_code == 1
    again = demo("--months", "1", "--until", "2026-10-08")
    assert again.exit_code == 1 and "不是空的" in again.output
    archive = open_archive(Settings(home=tmp_path / "home"))
    try:
        last = archive.app.recorder.select_notifications(start=archive.app.head(), limit=1)
        event = archive.app.mapper.to_domain_event(last[0])
        assert event.timestamp <= datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
    finally:
        archive.close()


def test_two_months_load_and_verify(tmp_path: Path) -> None:
    """Two small months through the command line, then the whole log verified (the full-size
    month is test_demo's test_default_month: two of them would only double the minutes)."""
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(tmp_path / "home")}
    command = ["demo", "--months", "2", "--until", "2026-11-30", "--work-orders", "30", "--json"]
    done = runner.invoke(app, command, env=env)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["documents"]["work_order"] == 60
    assert summary["documents"]["daily_report"] >= 50  # every working day of both months
    verified = runner.invoke(app, ["verify"], env=env)
    assert verified.exit_code == 0, verified.output


def test_papers_name_what_was_filed_before_them(three_months) -> None:
    """Claims, diagnostic sheets, vouchers and callbacks name a work order filed before them;
    a delivery callback its registration; a quick-handling form from a callback that callback.
    A form from a complaint names the complaint register's line: a complaint is not a kind of
    paper, so its number names nothing filed (the registry's link follows ``source``)."""
    filed: dict[tuple[str, str], tuple[datetime, str]] = {}  # when, its business date
    targets = {
        "work_order_no": "work_order",
        "registration_no": "warranty_registration",
        "source_no": "callback",
    }
    unlinked = []
    named: dict[tuple[str, str], int] = defaultdict(int)
    for op in three_months.operations:
        if not isinstance(op, FileDocument):
            continue
        for field, kind in targets.items():
            number = op.data.get(field)
            if not number:
                continue
            if field == "source_no" and op.data["source"] != "callback":
                named[(op.kind, op.data["source"])] += 1
                continue
            named[(op.kind, kind)] += 1
            if (kind, number) not in filed:
                unlinked.append((op.kind, op.number, op.unlinked_reason))
                continue
            at, day = filed[(kind, number)]
            assert at < op.at and day <= op.data["business_date"], (op.kind, op.number)
        filed[(op.kind, op.number)] = (op.at, op.data["business_date"])
    # Only the claim of a repair done on paper before the system, with its reason.
    assert [(kind, bool(reason)) for kind, _, reason in unlinked] == [("warranty_claim", True)]
    for pair in (
        ("warranty_claim", "work_order"),
        ("diagnostic_sheet", "work_order"),
        ("first_service_voucher", "work_order"),
        ("callback", "work_order"),
        ("callback", "warranty_registration"),
        ("quick_handling", "callback"),
        ("quick_handling", "complaint"),
    ):
        assert named[pair] >= 3, pair
    behalf = [
        op for op in three_months.operations if isinstance(op, SignDocument) and op.on_behalf_of
    ]
    assert len(behalf) >= 3 and all(op.actor == "zheng.jianguo" for op in behalf)


def test_the_staged_load_stores_what_a_plain_load_stores(tmp_path: Path) -> None:
    """Loaded through the staging home (with its aggregate cache), the same documents, byte
    for byte in content, as loaded straight into an archive."""
    plan = generate(DemoSpec(month="2026-10", work_orders=20))
    staged = Settings(home=tmp_path / "staged")
    load_all_or_nothing(staged, lambda a: load(a, plan))
    plain = open_archive(Settings(home=tmp_path / "plain"))
    load(plain, plan)
    other = open_archive(staged)
    try:
        assert other.app.head() == plain.app.head()
        for kind, numbers in plan.documents().items():
            for number in numbers:
                mine, theirs = queries.show(other, kind, number), queries.show(plain, kind, number)
                for key in ("version", "content_hash", "status", "signatures", "submission"):
                    assert mine[key] == theirs[key], (kind, number, key)
    finally:
        other.close()
        plain.close()
