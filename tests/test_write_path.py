"""The one write path against a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from eventsourcing.persistence import IntegrityError

from archive import commands, queries
from archive.bootstrap import Archive, open_archive
from archive.errors import BadInput, Conflict, Forbidden, NotFound, ValidationFailed
from events.document import Document
from tests.support import (
    OTHER_VIN,
    FakeClock,
    event_count,
    file_claim,
    pdf_bytes,
    png_bytes,
    sign_and_scan_claim,
    work_order,
)


def problem_fields(error: ValidationFailed) -> set[str]:
    return {p.field for p in error.problems}


# -- filing --------------------------------------------------------------------------------


def test_filed_document_reads_back_typed_from_a_fresh_process(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    team.close()
    reopened = open_archive(team.settings)
    try:
        _, doc = queries.get_document(reopened, "work_order", "WO-0001")
    finally:
        reopened.close()
    assert doc.fields["business_date"] == date(2026, 11, 3)
    assert doc.fields["mileage_km"] == 12345
    assert doc.fields["customer_phone"] == "13800138000"
    assert doc.fields["service_advisor"] == "wang"
    assert doc.fields["parts_lines"][0]["amount"] == Decimal("420.50")
    assert doc.fields["labour_lines"][0]["hours"] == Decimal("1.5")
    assert doc.filed_by == "admin"


def test_bad_input_reports_every_field_and_saves_nothing(team: Archive) -> None:
    before = event_count(team)
    bad = work_order(
        vin="1M8GDM9A1KP042788",  # wrong check digit
        plate="京I12345",
        mileage_km="-3",
        customer_phone="12345678901",
        business_date="2026-02-30",
        service_advisor="李师傅",  # a technician, not an advisor
        parts_lines=[{"part_no": "X1", "name": "机油", "qty": "1", "amount": "-5"}],
    )
    with pytest.raises(ValidationFailed) as caught:
        commands.file_document(team, "work_order", bad, "admin")
    assert problem_fields(caught.value) == {
        "vin",
        "plate",
        "mileage_km",
        "customer_phone",
        "business_date",
        "service_advisor",
        "parts_lines.1.amount",
    }
    for problem in caught.value.problems:
        assert problem.message_zh and problem.message_en
    assert event_count(team) == before


def test_filing_a_number_twice_is_refused(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    before = event_count(team)
    with pytest.raises(Conflict) as caught:
        commands.file_document(team, "work_order", work_order(mileage_km=999), "admin")
    assert caught.value.code == "duplicate_number"
    assert "已经存档" in caught.value.message_zh
    assert event_count(team) == before
    # The same number in another kind is another document.
    commands.file_document(
        team,
        "diagnostic_sheet",
        {
            "number": "WO-0001",
            "business_date": "2026-11-03",
            "work_order_no": "WO-0001",
            "customer_words": "踩刹车吱吱响",
            "advisor_findings": "前刹车片到磨损极限",
            "service_advisor": "wang",
        },
        "admin",
    )


def test_unknown_or_inactive_actor_cannot_file(team: Archive) -> None:
    with pytest.raises(Forbidden):
        commands.file_document(team, "work_order", work_order(), "nobody")
    commands.deactivate_staff(team, "clerk2", "离职", "admin")
    before = event_count(team)
    with pytest.raises(Forbidden) as caught:
        commands.file_document(team, "work_order", work_order(), "clerk2")
    assert caught.value.code == "inactive_actor"
    assert event_count(team) == before


# -- amending ------------------------------------------------------------------------------


def test_amend_records_only_changes_with_reason_and_refuses_stale_version(
    team: Archive, clock: FakeClock
) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    clock.advance(hours=2)
    doc = commands.amend_document(
        team,
        "work_order",
        "WO-0001",
        {"mileage_km": "12,400", "customer_name": "张三"},  # the name is unchanged
        "抄错里程",
        expected_version=1,
        actor="admin",
    )
    assert doc.version == 2
    entries = queries.history(team, "work_order", "WO-0001")
    amended = entries[-1]
    assert amended["event"] == "Amended"
    assert amended["reason"] == "抄错里程"
    assert amended["actor"] == "admin"
    assert amended["changes"] == [
        {
            "field": "mileage_km",
            "label": "行驶里程（km）",
            "before": 12345,
            "after": 12400,
            "before_text": "12345",
            "after_text": "12400",
        }
    ]

    before = event_count(team)
    with pytest.raises(Conflict) as caught:
        commands.amend_document(
            team, "work_order", "WO-0001", {"mileage_km": 1}, "x", expected_version=1, actor="admin"
        )
    assert caught.value.code == "stale_version"
    assert event_count(team) == before


def test_amend_needs_reason_valid_fields_and_a_real_change(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    before = event_count(team)
    with pytest.raises(ValidationFailed) as no_reason:
        commands.amend_document(team, "work_order", "WO-0001", {"mileage_km": 1}, " ", 1, "admin")
    assert problem_fields(no_reason.value) == {"reason"}
    with pytest.raises(ValidationFailed) as bad:
        commands.amend_document(
            team, "work_order", "WO-0001", {"vin": "SHORT", "model": ""}, "更正", 1, "admin"
        )
    assert problem_fields(bad.value) == {"vin", "model"}  # model is required: no clearing it
    with pytest.raises(Conflict) as same:
        commands.amend_document(
            team, "work_order", "WO-0001", {"model": "大众朗逸"}, "x", 1, "admin"
        )
    assert same.value.code == "no_change"
    with pytest.raises(NotFound):
        commands.amend_document(team, "work_order", "WO-9999", {"model": "x"}, "x", 1, "admin")
    assert event_count(team) == before


def test_optional_field_can_be_cleared_by_amendment(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    commands.amend_document(team, "work_order", "WO-0001", {"work_done": ""}, "未完工", 1, "admin")
    view = queries.show(team, "work_order", "WO-0001")
    assert "work_done" not in view["fields"]
    change = queries.history(team, "work_order", "WO-0001")[-1]["changes"][0]
    assert change == {
        "field": "work_done",
        "label": "维修内容",
        "before": "更换前刹车片",
        "after": None,
        "before_text": "更换前刹车片",
        "after_text": "—",
    }


def test_a_concurrent_save_of_the_same_version_is_a_conflict(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    doc_id = Document.create_id("work_order", "WO-0001")
    first: Document = team.app.repository.get(doc_id)
    second: Document = team.app.repository.get(doc_id)
    first.amend({"mileage_km": 20000}, "a", "admin", team.now())
    second.amend({"mileage_km": 30000}, "b", "admin", team.now())
    team.app.save(first)
    with pytest.raises(IntegrityError):
        team.app.save(second)
    # ... and the write path turns that into a clear conflict, not a crash.
    third: Document = team.app.repository.get(doc_id)
    fourth: Document = team.app.repository.get(doc_id)
    third.amend({"mileage_km": 40000}, "c", "admin", team.now())
    fourth.amend({"mileage_km": 50000}, "d", "admin", team.now())
    commands.save(team, third)
    with pytest.raises(Conflict) as caught:
        commands.save(team, fourth)
    assert caught.value.code == "concurrent_change"
    assert queries.show(team, "work_order", "WO-0001")["fields"]["mileage_km"] == 40000


# -- reading the past ----------------------------------------------------------------------


def test_state_as_of_an_instant_and_at_a_version(team: Archive, clock: FakeClock) -> None:
    filed_at = clock.advance(minutes=1)
    commands.file_document(team, "work_order", work_order(), "admin")
    clock.advance(days=1)
    commands.amend_document(
        team, "work_order", "WO-0001", {"mileage_km": 12400}, "更正", 1, "admin"
    )

    then = queries.show(team, "work_order", "WO-0001", as_of=filed_at + timedelta(hours=1))
    assert then["fields"]["mileage_km"] == 12345
    assert then["version"] == 1
    assert queries.show(team, "work_order", "WO-0001")["fields"]["mileage_km"] == 12400
    assert queries.show(team, "work_order", "WO-0001", version=1)["fields"]["mileage_km"] == 12345
    with pytest.raises(NotFound):
        queries.show(team, "work_order", "WO-0001", as_of=filed_at - timedelta(seconds=1))
    with pytest.raises(BadInput):
        queries.show(team, "work_order", "WO-0001", version=1, as_of=filed_at)


# -- scans ---------------------------------------------------------------------------------


def test_scans_are_stored_once_by_content_and_checked_by_magic_bytes(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    commands.file_document(team, "work_order", work_order("WO-2"), "admin")
    scan = pdf_bytes("WO-1 slip")
    commands.attach_scan(team, "work_order", "WO-1", io.BytesIO(scan), "admin", "../../x.pdf")
    commands.attach_scan(team, "work_order", "WO-2", io.BytesIO(scan), "admin", "slip.pdf")
    stored = [p for p in team.settings.layout.blobs.rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == scan
    view = queries.show(team, "work_order", "WO-1")
    assert view["scans"][0]["filename"] == "x.pdf"
    assert view["scans"][0]["media_type"] == "application/pdf"

    before = event_count(team)
    with pytest.raises(Conflict):
        commands.attach_scan(team, "work_order", "WO-1", io.BytesIO(scan), "admin")
    with pytest.raises(BadInput) as wrong_type:
        commands.attach_scan(
            team, "work_order", "WO-1", io.BytesIO(b"GIF89a....."), "admin", "a.pdf"
        )
    assert wrong_type.value.code == "unsupported_type"
    assert event_count(team) == before


def test_scan_size_limit_and_withdrawal_keeps_the_blob(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    big = b"%PDF-1.4\n" + b"0" * (team.blobs.max_bytes + 1)
    before = event_count(team)
    with pytest.raises(BadInput) as too_big:
        commands.attach_scan(team, "work_order", "WO-0001", io.BytesIO(big), "admin")
    assert too_big.value.code == "too_large"
    assert event_count(team) == before
    assert not [p for p in team.settings.layout.blobs.rglob("*") if p.is_file()]

    image = png_bytes(3)
    doc = commands.attach_scan(team, "work_order", "WO-0001", io.BytesIO(image), "admin")
    sha = doc.scans[0].sha256
    with pytest.raises(ValidationFailed):
        commands.withdraw_scan(team, "work_order", "WO-0001", sha, "", "admin")
    commands.withdraw_scan(team, "work_order", "WO-0001", sha[:10], "扫描不清晰", "admin")
    view = queries.show(team, "work_order", "WO-0001")
    assert view["scans"][0]["withdrawn"] is True
    assert view["scans"][0]["withdrawn_reason"] == "扫描不清晰"
    assert team.blobs.read(sha) == image


# -- voiding, signing, submitting ----------------------------------------------------------


def test_void_needs_a_reason_and_freezes_the_document(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    with pytest.raises(ValidationFailed):
        commands.void_document(team, "work_order", "WO-0001", "", "admin")
    commands.void_document(team, "work_order", "WO-0001", "重复开单", "admin")
    assert queries.show(team, "work_order", "WO-0001")["status"] == "voided"
    before = event_count(team)
    with pytest.raises(Conflict):
        commands.amend_document(team, "work_order", "WO-0001", {"model": "x"}, "r", 2, "admin")
    with pytest.raises(Conflict):
        commands.sign_document(team, "work_order", "WO-0001", "service_advisor", "wang")
    with pytest.raises(Conflict):
        commands.attach_scan(team, "work_order", "WO-0001", io.BytesIO(pdf_bytes()), "admin")
    assert event_count(team) == before


def test_signatures_sign_a_version_and_amendment_makes_them_stale(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    with pytest.raises(Forbidden) as not_held:
        commands.sign_document(team, "work_order", "WO-0001", "service_advisor", "li")
    assert not_held.value.code == "role_not_held"
    with pytest.raises(Forbidden) as not_needed:
        commands.sign_document(team, "work_order", "WO-0001", "claims_clerk", "zhou")
    assert not_needed.value.code == "role_not_required"
    with pytest.raises(BadInput):
        commands.sign_document(team, "work_order", "WO-0001", "customer", "admin")

    commands.sign_document(team, "work_order", "WO-0001", "service_advisor", "wang")
    commands.sign_document(team, "work_order", "WO-0001", "technician", "li")
    commands.sign_document(
        team, "work_order", "WO-0001", "customer", "admin", signature_image=io.BytesIO(png_bytes(7))
    )
    view = queries.show(team, "work_order", "WO-0001")
    assert view["status"] == "complete"
    assert {s["signer_name"] for s in view["signatures"]} == {"王强", "李师傅", "张三"}
    assert all(s["content_hash"] == view["content_hash"] for s in view["signatures"])

    commands.amend_document(
        team, "work_order", "WO-0001", {"mileage_km": 13000}, "更正", 5, "admin"
    )
    view = queries.show(team, "work_order", "WO-0001")
    assert view["status"] == "awaiting_signatures"
    assert set(view["missing_roles"]) == {"service_advisor", "technician", "customer"}
    assert len(view["signatures"]) == 3 and not any(s["current"] for s in view["signatures"])
    commands.sign_document(team, "work_order", "WO-0001", "service_advisor", "wang")
    assert queries.show(team, "work_order", "WO-0001")["missing_roles"] == [
        "technician",
        "customer",
    ]


def test_only_a_registered_clerk_submits_a_claim_and_only_once(team: Archive) -> None:
    file_claim(team)
    sign_and_scan_claim(team)
    with pytest.raises(Forbidden) as unregistered:
        commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW2026110001", "clerk2")
    assert unregistered.value.code == "clerk_not_registered"
    with pytest.raises(ValidationFailed):
        commands.submit_claim(team, "warranty_claim", "WC-0001", "  ", "admin")
    commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW2026110001", "admin")
    view = queries.show(team, "warranty_claim", "WC-0001")
    assert view["status"] == "submitted"
    assert view["submission"]["claim_no"] == "SVW2026110001"
    with pytest.raises(Conflict):
        commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW2026110002", "admin")
    with pytest.raises(BadInput):
        commands.submit_claim(team, "work_order", "WO-0001", "X", "admin")


# -- staff ---------------------------------------------------------------------------------


def test_first_staff_member_must_be_a_self_registered_admin(archive: Archive) -> None:
    with pytest.raises(Forbidden):
        commands.register_staff(
            archive, username="li", name="李师傅", roles=["technician"], actor="li"
        )
    commands.register_staff(archive, username="boss", name="刘总", roles=["admin"], actor="boss")
    with pytest.raises(Forbidden):
        commands.register_staff(
            archive, username="x", name="某人", roles=["clerk"], actor="stranger"
        )
    with pytest.raises(Conflict):
        commands.register_staff(archive, username="boss", name="刘", roles=["admin"], actor="boss")
    with pytest.raises(ValidationFailed) as bad:
        commands.register_staff(archive, username="王", name="", roles=["chef"], actor="boss")
    assert problem_fields(bad.value) == {"username", "name"}
    with pytest.raises(ValidationFailed) as bad_role:
        commands.register_staff(archive, username="w", name="王", roles=["chef"], actor="boss")
    assert problem_fields(bad_role.value) == {"roles"}


def test_only_admins_manage_staff_and_deactivated_staff_cannot_sign(team: Archive) -> None:
    with pytest.raises(Forbidden):
        commands.change_roles(team, "li", ["technician", "workshop_lead"], "wang")
    commands.change_roles(team, "li", ["technician", "workshop_lead"], "admin")
    assert team.staff.get("li").roles == ("technician", "workshop_lead")
    commands.file_document(team, "work_order", work_order(), "admin")
    commands.deactivate_staff(team, "li", "离职", "admin")
    with pytest.raises(Forbidden):
        commands.sign_document(team, "work_order", "WO-0001", "technician", "li")
    # A departed technician can no longer be named on a new document either.
    with pytest.raises(ValidationFailed) as caught:
        commands.file_document(team, "work_order", work_order("WO-2"), "admin")
    assert "technicians" in problem_fields(caught.value)


# -- batches -------------------------------------------------------------------------------


def test_batch_files_all_rows_or_none(team: Archive) -> None:
    rows = [(2, work_order("WO-1")), (3, work_order("WO-2", vin=OTHER_VIN))]
    commands.file_batch(team, "work_order", rows, "admin")
    assert queries.show(team, "work_order", "WO-2")["fields"]["vin"] == OTHER_VIN

    before = event_count(team)
    bad_rows = [
        (2, work_order("WO-3")),
        (3, work_order("WO-4", customer_phone="110")),
        (4, work_order("WO-3")),
    ]
    with pytest.raises(commands.ImportFailed) as caught:
        commands.file_batch(team, "work_order", bad_rows, "admin")
    assert {(p.line, p.field) for p in caught.value.problems} == {
        (3, "customer_phone"),
        (4, "number"),
    }
    with pytest.raises(commands.ImportFailed) as existing:
        commands.file_batch(
            team, "work_order", [(2, work_order("WO-5")), (3, work_order("WO-1"))], "admin"
        )
    assert [(p.line, p.field) for p in existing.value.problems] == [(3, "number")]
    assert event_count(team) == before
    with pytest.raises(NotFound):
        queries.show(team, "work_order", "WO-5")


def test_a_scan_read_in_the_background_leaves_the_open_form_current(team: Archive) -> None:
    """OCR records its reading on the document while a clerk has the form open: his amendment
    from the version he saw still goes through; a signature made meanwhile still stops it."""
    doc = commands.file_document(team, "work_order", work_order(), "admin")
    seen = doc.version
    doc.trigger_event(
        Document.ScanRead,
        sha256="ab" * 32,
        derived_sha256="cd" * 32,
        text="滤芯",
        pages=1,
        engine="test",
        page_fingerprints=["ef" * 32],
        timestamp=team.now(),
    )
    team.app.save(doc)
    amended = commands.amend_document(
        team, "work_order", "WO-0001", {"mileage_km": 23500}, "抄错里程", seen, "admin"
    )
    assert amended.fields["mileage_km"] == 23500
    seen = amended.version
    commands.sign_document(team, "work_order", "WO-0001", "service_advisor", "wang")
    before = event_count(team)
    with pytest.raises(Conflict) as caught:
        commands.amend_document(
            team, "work_order", "WO-0001", {"mileage_km": 23600}, "再改", seen, "admin"
        )
    assert caught.value.code == "stale_version"
    assert event_count(team) == before
