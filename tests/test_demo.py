"""The demo month: generated purely, loaded through the write path, the same every time."""

from __future__ import annotations

import itertools
import os
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from archive import queries
from archive.bootstrap import Archive, open_archive
from archive.commands import file_batch
from archive.config import Settings
from archive.demo import DemoSpec, generate, load, register_staff, work_order_rows
from archive.demo.media import scan_pdf, signature_png
from archive.demo.ops import FileDocument, SignDocument
from archive.errors import ArchiveError
from archive.kinds.identifiers import mobile_ok, plate_ok, vin_problem

SMALL = DemoSpec(month="2026-10", work_orders=40)
TZ = ZoneInfo("Asia/Shanghai")


def _open(home: Path) -> Archive:
    return open_archive(Settings(home=home))


@pytest.fixture(scope="module")
def plan():
    return generate(SMALL)


@pytest.fixture(scope="module")
def loaded(plan, tmp_path_factory):
    archive = _open(tmp_path_factory.mktemp("demo-a"))
    summary = load(archive, plan)
    yield archive, summary
    archive.close()


def _views(archive: Archive, plan) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (kind, number): queries.show(archive, kind, number)
        for kind, numbers in plan.documents().items()
        for number in numbers
    }


# -- generation ----------------------------------------------------------------------------------


def test_generate_is_deterministic_and_seeded(plan):
    assert generate(SMALL) == plan
    assert generate(replace(SMALL, seed=5)).operations != plan.operations


def _check_times(plan) -> None:
    times = [op.at for op in plan.operations]
    assert times == sorted(times)
    assert all(t.utcoffset() == UTC.utcoffset(None) for t in times)
    for op in plan.operations:
        local = op.at.astimezone(TZ)
        assert local.weekday() != 6, op
        assert "08:30" <= f"{local:%H:%M}" < "18:30", op


def test_operations_are_sorted_utc_and_in_working_hours(plan):
    _check_times(plan)


def test_staff_roster(plan):
    admin, *others = plan.staff
    assert admin.username == "admin" and {"admin", "clerk"} <= set(admin.roles)
    assert admin.registration_no
    assert any("clerk" in s.roles and not s.registration_no for s in others)
    assert all(s.username.isascii() for s in plan.staff)
    assert 14 <= len(plan.staff) <= 16


def test_identifiers_are_valid(plan):
    for op in plan.operations:
        if not isinstance(op, FileDocument):
            continue
        data = op.data
        if "vin" in data:
            assert vin_problem(data["vin"]) is None, data["vin"]
        if data.get("plate"):
            assert plate_ok(data["plate"]), data["plate"]
        if data.get("customer_phone"):
            assert mobile_ok(data["customer_phone"]), data["customer_phone"]


def test_media_files_are_deterministic():
    png = signature_png("张伟")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png == signature_png("张伟")
    assert png != signature_png("李娜") and png != signature_png("张伟", "again")
    pdf = scan_pdf(["维修委托书", "委托书号：WO2610010001"])
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf == scan_pdf(["维修委托书", "委托书号：WO2610010001"])
    assert pdf != scan_pdf(["维修委托书", "委托书号：WO2610010002"])  # drawn, not in the bytes


# -- loading -------------------------------------------------------------------------------------


def test_counts_per_kind_are_as_planned(plan, loaded):
    archive, summary = loaded
    planned = {kind: len(numbers) for kind, numbers in plan.documents().items()}
    assert summary.documents == planned
    assert planned["work_order"] == SMALL.work_orders
    assert planned["diagnostic_sheet"] >= SMALL.work_orders - 2  # not for duplicates, no-shows
    assert planned["pdi_sheet"] == planned["warranty_registration"] >= 1
    for kind in ("warranty_claim", "callback", "daily_report", "quick_handling"):
        assert planned[kind] >= 1, kind
    ops = plan.counts()
    assert summary.signatures == ops["SignDocument"]
    assert summary.amendments == ops["AmendDocument"] >= 1
    assert summary.voids == ops["VoidDocument"] >= 1
    assert summary.scans == ops["AttachScan"]
    assert summary.submissions == ops["SubmitClaim"]
    assert summary.staff == len(plan.staff)
    views = _views(archive, plan)
    assert len(views) == sum(planned.values())


def test_stored_vins_are_valid(plan, loaded):
    archive, _ = loaded
    for view in _views(archive, plan).values():
        vin = view["fields"].get("vin")
        if vin:
            assert vin_problem(vin) is None


def test_clock_is_restored(plan, tmp_path):
    archive = _open(tmp_path)
    original = archive.clock
    broken = replace(plan, operations=(*plan.operations[:5], plan.operations[0]))  # files twice
    with pytest.raises(ArchiveError):
        load(archive, broken)
    assert archive.clock is original
    archive.close()


def test_progress_is_reported(plan, tmp_path):
    archive = _open(tmp_path)
    calls: list[tuple[int, int]] = []
    load(archive, plan, progress=lambda done, total: calls.append((done, total)))
    archive.close()
    total = len(plan.operations)
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_two_archives_hold_the_same_documents(plan, loaded, tmp_path):
    first, _ = loaded
    second = _open(tmp_path)
    load(second, plan)
    try:
        for (kind, number), view in _views(first, plan).items():
            other = queries.show(second, kind, number)
            assert other["fields"] == view["fields"], (kind, number)
            assert other["content_hash"] == view["content_hash"]
            assert other["status"] == view["status"]
            assert other["signatures"] == view["signatures"]
            assert other["scans"] == view["scans"]
    finally:
        second.close()


def test_mistakes_and_lateness_are_there(plan, loaded):
    archive, _ = loaded
    views = _views(archive, plan)
    assert any(v["amendment_count"] for v in views.values())
    voided = [v for v in views.values() if v["status"] == "voided"]
    assert voided and all(v["voided"]["reason"] for v in voided)
    claims = [v for (kind, _), v in views.items() if kind == "warranty_claim"]
    late = [
        c
        for c in claims
        if c["submission"] and c["submission"]["at"][:10] > c["fields"]["report_deadline"]
    ]
    assert late and {c["number"] for c in late} == set(plan.facts.late_claims)
    assert all(c["submission"]["by"] == "admin" for c in claims if c["submission"])
    assert any(v["missing_roles"] for v in views.values() if v["status"] != "voided")


def test_amendments_carry_reasons_and_are_signed_again(plan, loaded):
    archive, _ = loaded
    amended = [v for v in _views(archive, plan).values() if v["amendment_count"]]
    assert amended
    for view in amended:
        history = queries.history(archive, view["kind"], view["number"])
        assert all(e["reason"] for e in history if e["event"] == "Amended")
    # Signed before the correction (now stale), and again after it: complete once more.
    signed_again = [
        v
        for v in amended
        if v["status"] == "complete" and any(not s["current"] for s in v["signatures"])
    ]
    assert signed_again


def test_callbacks_within_three_days_except_the_late_ones(plan, loaded):
    archive, _ = loaded
    views = _views(archive, plan)
    late = set()
    for (kind, number), view in views.items():
        if kind != "callback":
            continue
        if "registration_no" in view["fields"]:  # the call 7 days after a delivery
            registration = views[("warranty_registration", view["fields"]["registration_no"])]
            delivered = date.fromisoformat(registration["fields"]["delivery_date"])
            called = date.fromisoformat(view["fields"]["called_at"][:10])
            assert 6 <= (called - delivered).days <= 7, number  # a Sunday: the Saturday
            continue
        work_order = views[("work_order", view["fields"]["work_order_no"])]
        settled = date.fromisoformat(work_order["fields"]["settled_at"][:10])
        called = date.fromisoformat(view["fields"]["called_at"][:10])
        assert (called - settled).days >= 1
        if (called - settled).days > 3:
            late.add(number)
    assert late and late <= set(plan.facts.late_callbacks) | _retries(views)


def _retries(views: dict[tuple[str, str], dict[str, Any]]) -> set[str]:
    """Second calls (after no answer or a wrong number) may fall after day 3."""
    calls = defaultdict(list)
    for (kind, number), view in views.items():
        if kind == "callback" and "work_order_no" in view["fields"]:
            calls[view["fields"]["work_order_no"]].append(number)
    return {n for numbers in calls.values() for n in sorted(numbers)[1:]}


def test_exactly_one_odometer_anomaly(plan, loaded):
    archive, _ = loaded
    visits = defaultdict(list)
    for (kind, number), view in _views(archive, plan).items():
        if kind == "work_order" and view["status"] != "voided":
            fields = view["fields"]
            visits[fields["vin"]].append((fields["business_date"], number, fields["mileage_km"]))
    anomalies = []
    for vin, seen in visits.items():
        seen.sort()
        for before, after in itertools.pairwise(seen):
            if after[2] < before[2]:
                anomalies.append((vin, before[1], after[1]))
    assert anomalies == [plan.facts.odometer_anomaly]
    assert sum(1 for seen in visits.values() if len(seen) > 1) >= 2


def test_customer_signatures_and_scans_point_at_stored_files(plan, loaded):
    archive, _ = loaded
    customer_signs = [
        op for op in plan.operations if isinstance(op, SignDocument) and op.role == "customer"
    ]
    assert customer_signs
    for view in _views(archive, plan).values():
        signature_images = set()
        for signature in view["signatures"]:
            if signature["role"] == "customer":
                assert archive.blobs.read(signature["image_sha256"]).startswith(b"\x89PNG")
                signature_images.add(signature["image_sha256"])
        for scan in view["scans"]:
            if scan["sha256"] in signature_images:  # the drawn signature, kept as a scan
                assert scan["media_type"] == "image/png" and scan["label"] == "客户签名"
                continue
            assert scan["media_type"] == "application/pdf"
            assert view["number"].encode() in archive.blobs.read(scan["sha256"])


# -- rows for benchmarks -------------------------------------------------------------------------


def test_work_order_rows_file_as_a_batch(tmp_path):
    rows = work_order_rows(300, seed=7, month="2026-11")
    assert rows == work_order_rows(300, seed=7, month="2026-11")
    assert len({row["number"] for row in rows}) == 300
    archive = _open(tmp_path)
    archive.clock = lambda: datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    register_staff(archive, generate(SMALL).staff)
    docs = file_batch(archive, "work_order", list(enumerate(rows, start=1)), "admin")
    assert len(docs) == 300
    archive.close()


# -- the full month ------------------------------------------------------------------------------


@pytest.mark.slow
def test_default_month(tmp_path):
    spec = DemoSpec(month="2026-10")
    started = time.perf_counter()
    plan = generate(spec)
    _check_times(plan)
    archive = _open(tmp_path)
    summary = load(archive, plan)
    elapsed = time.perf_counter() - started
    documents = plan.documents()
    assert summary.documents["work_order"] >= 600
    assert len(documents["diagnostic_sheet"]) >= 590
    assert 70 <= summary.documents["warranty_claim"] <= 90
    assert len(documents["pdi_sheet"]) == len(documents["warranty_registration"]) == 40
    assert len(set(documents["pdi_sheet"])) == 40
    pdi_vins = {
        queries.show(archive, "pdi_sheet", n)["fields"]["vin"] for n in documents["pdi_sheet"]
    }
    registered_vins = {
        queries.show(archive, "warranty_registration", n)["fields"]["vin"]
        for n in documents["warranty_registration"]
    }
    assert pdi_vins == registered_vins
    assert 20 <= summary.amendments <= 40 and 6 <= summary.voids <= 10
    assert 30 <= summary.documents["first_service_voucher"] <= 50
    assert 8 <= summary.documents["offsite_service"] <= 12
    assert 8 + 6 <= summary.documents["quick_handling"] <= 12 + 6  # + complaints
    assert summary.documents["callback"] >= 500
    # Run alone (load average 5.5 from other work on 2 cores): 48 s. Timed step by step, the
    # contacts' calls, the invoices and the complaint forms took 1.8 s of 56 s. Many processes
    # at once make it slower (126 s beside 8 others): the message says so, no looser limit.
    load_average = os.getloadavg()[0]
    assert elapsed < 60, f"the default month took {elapsed:.1f} s (load average {load_average:.1f})"
    archive.close()
