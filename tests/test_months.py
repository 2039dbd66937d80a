"""Month volumes: the projection's view of a month, and sealing it (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from uuid import UUID

import pytest
import typer
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.cli.months import register
from archive.commands.common import load_document
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.errors import ValidationFailed
from archive.integrity.checkpoints import list_checkpoints
from archive.kinds.catalog import RegistryClosingCatalog
from archive.kinds.registry import get_kind
from archive.queries.months import month_overview
from archive.queries.volumes import sealed_volumes
from events.document import Document
from events.volume import MonthVolume
from projections.closing import UNSCANNED, UNSIGNED, UNSUBMITTED, document_blockers
from projections.months import AMENDED, MonthVolumes
from projections.runner import LogReader, catch_up
from tests.support import (
    FakeClock,
    event_count,
    pdf_bytes,
    png_bytes,
    register_team,
    warranty_claim,
    work_order,
)

OCTOBER = "2026-10-20"
CLAIM_SIGNERS = ["technician", "claims_clerk", "service_manager", "customer"]


def file_work_order(archive: Archive, number: str, *, signed: bool = True) -> None:
    commands.file_document(
        archive, "work_order", work_order(number, business_date=OCTOBER), "admin"
    )
    if signed:
        commands.sign_document(archive, "work_order", number, "service_advisor", "wang")
        commands.sign_document(archive, "work_order", number, "technician", "li")
        commands.sign_document(
            archive,
            "work_order",
            number,
            "customer",
            "admin",
            signature_image=io.BytesIO(png_bytes(len(number))),
        )


def file_claim(archive: Archive, number: str, *, complete: bool) -> None:
    commands.file_document(
        archive, "warranty_claim", warranty_claim(number, business_date=OCTOBER), "admin"
    )
    if not complete:
        return
    commands.attach_scan(
        archive, "warranty_claim", number, io.BytesIO(pdf_bytes(number)), "admin", "slip.pdf"
    )
    for role, person in (
        ("technician", "li"),
        ("claims_clerk", "zhou"),
        ("service_manager", "sun"),
    ):
        commands.sign_document(archive, "warranty_claim", number, role, person)
    commands.sign_document(
        archive,
        "warranty_claim",
        number,
        "customer",
        "admin",
        signature_image=io.BytesIO(png_bytes(7)),
    )
    commands.submit_claim(archive, "warranty_claim", number, f"SVW{number}", "admin")


def overview(archive: Archive, month: str = "2026-10") -> dict:
    months = archive.open_month_volumes()
    try:
        catch_up(months, LogReader(archive.app))
        return month_overview(archive, months, month)
    finally:
        months.close()


# -- sealing: who, and when it is refused ----------------------------------------------------


def test_only_a_service_manager_seals(team: Archive) -> None:
    file_work_order(team, "WO-0001")
    before = event_count(team)
    for person in ("admin", "wang", "auditor"):
        with pytest.raises(commands.Forbidden) as refused:
            commands.seal_month(team, "2026-10", person)
        assert refused.value.code == "not_permitted"
        assert "封存月度卷" in refused.value.message_zh and "服务经理" in refused.value.message_zh
    assert event_count(team) == before


def test_open_items_refuse_the_seal_until_forced_with_a_reason(team: Archive) -> None:
    file_work_order(team, "WO-0001")
    file_claim(team, "WC-0001", complete=False)
    before = event_count(team)
    with pytest.raises(commands.SealBlocked) as blocked:
        commands.seal_month(team, "2026-10", "sun")
    found = {(b.number, b.code, b.roles) for b in blocked.value.blockers}
    assert found == {
        ("WC-0001", UNSIGNED, tuple(CLAIM_SIGNERS)),
        ("WC-0001", UNSCANNED, ()),
        ("WC-0001", UNSUBMITTED, ()),
    }
    assert "三包索赔单 WC-0001" in blocked.value.message_zh
    with pytest.raises(ValidationFailed):
        commands.seal_month(team, "2026-10", "sun", force_reason="  ")
    assert event_count(team) == before

    volume = commands.seal_month(team, "2026-10", "sun", force_reason="厂家要求月底前寄回")
    stored: MonthVolume = team.app.repository.get(MonthVolume.create_id("2026-10", 0))
    assert stored.forced_reason == "厂家要求月底前寄回"
    assert {(b["number"], b["code"]) for b in stored.open_blockers} == {
        ("WC-0001", UNSIGNED),
        ("WC-0001", UNSCANNED),
        ("WC-0001", UNSUBMITTED),
    }
    assert stored.entries == volume.entries
    assert [e["number"] for e in stored.entries] == ["WO-0001", "WC-0001"]  # registry order
    for entry in stored.entries:
        doc: Document = team.app.repository.get(UUID(entry["id"]))
        assert entry == {
            "id": str(doc.id),
            "kind": doc.kind,
            "number": doc.number,
            "version": doc.version,
            "content_hash": doc.content_hash,
        }
    canonical = json.dumps(
        stored.entries, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert stored.list_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_month_with_nothing_open_seals_without_a_reason(team: Archive) -> None:
    file_work_order(team, "WO-0001")
    file_claim(team, "WC-0001", complete=True)
    assert overview(team)["ready_to_seal"]
    volume = commands.seal_month(team, "2026-10", "sun")
    assert volume.forced_reason is None and volume.open_blockers == []
    assert volume.label == "2026-10" and len(volume.entries) == 2
    # A reason given when nothing blocks forces nothing and is not recorded as forcing.
    file_work_order(team, "WO-0002")
    supplement = commands.seal_month(team, "2026-10", "sun", force_reason="顺便")
    assert supplement.forced_reason is None


def test_a_late_document_goes_into_a_supplement_volume(team: Archive, clock: FakeClock) -> None:
    file_work_order(team, "WO-0001")
    main = commands.seal_month(team, "2026-10", "sun")
    clock.advance(days=2)
    file_work_order(team, "WO-0002")  # filed after the seal, business date in October
    month = overview(team)
    assert month["pending"] == 1 and month["next_volume"] == "2026-10 补1"
    supplement = commands.seal_month(team, "2026-10", "sun")
    assert (supplement.supplement, supplement.label) == (1, "2026-10 补1")
    assert [e["number"] for e in supplement.entries] == ["WO-0002"]
    with pytest.raises(commands.Conflict) as nothing:
        commands.seal_month(team, "2026-10", "sun")
    assert nothing.value.code == "nothing_to_seal"
    volumes = sealed_volumes(team, "2026-10")
    assert [v.label for v in volumes] == ["2026-10", "2026-10 补1"]
    assert volumes[0].entries == main.entries and volumes[0].list_hash == main.list_hash
    assert [v["label"] for v in overview(team)["volumes"]] == ["2026-10", "2026-10 补1"]


def test_a_document_amended_after_its_seal_is_flagged_and_stays_as_sealed(team: Archive) -> None:
    file_work_order(team, "WO-0001")
    volume = commands.seal_month(team, "2026-10", "sun")
    sealed = volume.entries[0]
    commands.amend_document(
        team,
        "work_order",
        "WO-0001",
        {"work_done": "更换前刹车片并试车"},
        "补记试车",
        sealed["version"],
        "admin",
    )
    kept: MonthVolume = team.app.repository.get(volume.id)
    assert kept.entries[0] == sealed
    changed = overview(team)["changed_since_seal"]
    assert [(c["number"], c["changes"], c["sealed_version"]) for c in changed] == [
        ("WO-0001", [AMENDED], sealed["version"])
    ]
    assert "封存后内容已修改" in changed[0]["changes_zh"]
    # Bound once: the amended document does not become a supplement of its own.
    with pytest.raises(commands.Conflict):
        commands.seal_month(team, "2026-10", "sun")


def test_sealing_needs_a_month_with_documents(team: Archive) -> None:
    with pytest.raises(ValidationFailed):
        commands.seal_month(team, "2026-13", "sun")
    with pytest.raises(commands.Conflict) as empty:
        commands.seal_month(team, "2026-09", "sun")
    assert empty.value.code == "nothing_to_seal"


# -- the projection against the aggregates (SQLite; the projection's own store is SQLite) ----


@pytest.fixture
def demo_month(tmp_path) -> Iterator[Archive]:
    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    load(archive, generate(DemoSpec(month="2026-10", work_orders=20)))
    try:
        yield archive
    finally:
        archive.close()


def snapshot(months: MonthVolumes) -> list[tuple]:
    return [
        tuple(r)
        for table in ("month_documents", "month_volumes")
        for r in months.query(f"SELECT * FROM {table} ORDER BY 1")
    ]


def test_the_projection_agrees_with_the_aggregates(demo_month: Archive) -> None:
    catalog = RegistryClosingCatalog()
    months = demo_month.open_month_volumes()
    try:
        catch_up(months, LogReader(demo_month.app))
        rows = months.documents("2026-10")
        assert len(rows) > 80
        for row in rows:
            doc: Document = demo_month.app.repository.get(UUID(row.doc_id))
            signers = list(get_kind(doc.kind).signers)
            assert row.status == doc.status(signers), row.number
            assert list(row.missing_roles) == doc.missing_roles(signers)
            assert list(row.blockers) == document_blockers(
                catalog,
                doc_id=row.doc_id,
                kind=doc.kind,
                number=doc.number,
                voided=doc.voided is not None,
                missing_roles=doc.missing_roles(signers),
                has_active_scan=bool(doc.active_scans()),
                submitted=doc.submission is not None,
            )
        assert any(row.blockers for row in rows)  # the demo leaves some papers open
        month = month_overview(demo_month, months, "2026-10")
        assert sum(k["total"] for k in month["kinds"]) == month["documents"] == len(rows)
        manager = next(
            p.username for p in demo_month.staff.refresh().values() if "service_manager" in p.roles
        )
        commands.seal_month(demo_month, "2026-10", manager, force_reason="演示")
        catch_up(months, LogReader(demo_month.app))
        incremental = snapshot(months)
        months.reset()
        catch_up(months, LogReader(demo_month.app))
        assert snapshot(months) == incremental
        assert all(r.sealed for r in months.documents("2026-10"))
    finally:
        months.close()


# -- the command line ------------------------------------------------------------------------


def test_month_and_seal_on_the_command_line(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    archive = open_archive(Settings(home=home))
    try:
        register_team(archive)
        file_work_order(archive, "WO-0001")
        file_claim(archive, "WC-0001", complete=False)
    finally:
        archive.close()
    monkeypatch.setenv("ARCHIVE_HOME", str(home))
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    shown = runner.invoke(app, ["month", "2026-10", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["documents"] == 2 and not data["ready_to_seal"]
    assert {b["missing_zh"] for b in data["blockers"]} == {
        "缺少签字：维修技师、索赔员、服务经理、客户",
        "缺少纸质原件扫描件",
        "尚未上报服务中心",
    }

    refused = runner.invoke(app, ["seal", "2026-10", "--staff", "sun"])
    assert refused.exit_code == 1
    assert "三包索赔单 WC-0001：缺少纸质原件扫描件" in refused.output
    assert runner.invoke(app, ["seal", "2026-10", "--staff", "wang"]).exit_code == 1

    forced = runner.invoke(
        app, ["seal", "2026-10", "--staff", "sun", "--force-reason", "厂家催收", "--json"]
    )
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["forced_reason"] == "厂家催收"
    assert len(list_checkpoints(Settings(home=home))) == 1  # the seal is checkpointed
    human = runner.invoke(app, ["month", "2026-10"])
    assert "已封存 2026-10：2 份" in human.output and "强制封存：厂家催收" in human.output
    assert runner.invoke(app, ["month", "2026-13"]).exit_code == 2


# -- the snapshot: taken after the scans are read, again if the month moved meanwhile -------


def amend_work(archive: Archive, number: str, work_done: str) -> None:
    """The desk at work while a seal runs: an amendment of a work order."""
    doc = load_document(archive, "work_order", number)[1]
    commands.amend_document(
        archive, "work_order", number, {"work_done": work_done}, "补记", doc.version, "admin"
    )


def sealed_as_it_stands(archive: Archive, volume: MonthVolume) -> bool:
    for entry in volume.entries:
        doc: Document = archive.app.repository.get(UUID(entry["id"]))
        if (entry["version"], entry["content_hash"]) != (doc.version, doc.content_hash):
            return False
    return True


def test_the_seal_snapshot_is_taken_after_the_scans_are_read(team: Archive) -> None:
    file_work_order(team, "WO-0001")
    file_work_order(team, "WO-0002")
    stages: list[str] = []

    def desk_works_on(stage: str, done: int, total: int) -> None:
        if stage == "ocr" and "ocr" not in stages:
            amend_work(team, "WO-0001", "更换前刹车片并试车")  # while scans are read (minutes)
        stages.append(stage)

    volume = commands.seal_month(team, "2026-10", "sun", "厂家催收", progress=desk_works_on)
    assert stages[-1] == "load" and "ocr" in stages  # documents loaded again after reading
    assert sealed_as_it_stands(team, volume)
    # the amendment took the signatures off: the seal records that it was forced over it
    assert [b["number"] for b in volume.open_blockers] == ["WO-0001"]
    assert overview(team)["changed_since_seal"] == []


def test_a_seal_whose_documents_change_after_its_snapshot_retakes_it_or_refuses(
    team: Archive,
) -> None:
    file_work_order(team, "WO-0001")
    finished_loads, changes, moving = 0, 1, "WO-0001"  # changed during the first snapshot

    def desk_works_on(stage: str, done: int, total: int) -> None:
        nonlocal finished_loads
        if stage == "load" and done == total:
            finished_loads += 1
            # the first load is the look before reading scans; the snapshots come after it
            if 1 < finished_loads <= 1 + changes:
                amend_work(team, moving, f"第 {finished_loads} 次修改")

    volume = commands.seal_month(team, "2026-10", "sun", "厂家催收", progress=desk_works_on)
    assert finished_loads == 3 and sealed_as_it_stands(team, volume)

    file_work_order(team, "WO-0002")  # into the supplement, which never holds still
    finished_loads, changes, moving = 0, 99, "WO-0002"
    before = event_count(team)
    with pytest.raises(commands.Conflict) as refused:
        commands.seal_month(team, "2026-10", "sun", "厂家催收", progress=desk_works_on)
    assert refused.value.code == "month_kept_changing"
    assert "2026-10 补1" in refused.value.message_zh and "稍后再封存" in refused.value.message_zh
    assert [v.label for v in sealed_volumes(team, "2026-10")] == ["2026-10"]
    assert event_count(team) == before + finished_loads - 1  # only the desk's amendments
