"""Sign-off rules, permissions, the off-site gate, deadlines and worklists (issue 4)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from archive import commands, queries
from archive.bootstrap import Archive, ReadModels, open_read_models
from archive.errors import BadInput, Conflict, Forbidden, ValidationFailed
from archive.queries.worklists import worklist
from tests.support import (
    FakeClock,
    event_count,
    file_claim,
    pdf_bytes,
    png_bytes,
    sign_and_scan_claim,
    warranty_claim,
    work_order,
)


@pytest.fixture
def models(team: Archive) -> Iterator[ReadModels]:
    opened = open_read_models(team)
    try:
        yield opened
    finally:
        opened.close()


def todo(team: Archive, models: ReadModels, username: str, today: date | None = None) -> dict:
    models.runner.wait_for(timeout=30)
    directory = team.staff.refresh()
    names = {u: p.name for u, p in directory.items()}
    day = today or team.now().astimezone(team.settings.tz).date()
    return worklist(models.worklists, team.settings, directory[username], names, day)


def numbers(entries: list[dict]) -> list[str]:
    return [e["number"] for e in entries]


# -- permissions ---------------------------------------------------------------------------


def test_auditors_read_everything_and_change_nothing(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    before = event_count(team)
    for attempt in (
        lambda: commands.file_document(team, "work_order", work_order("WO-2"), "auditor"),
        lambda: commands.amend_document(
            team, "work_order", "WO-0001", {"model": "x"}, "r", 1, "auditor"
        ),
        lambda: commands.void_document(team, "work_order", "WO-0001", "r", "auditor"),
        lambda: commands.attach_scan(
            team, "work_order", "WO-0001", io.BytesIO(pdf_bytes()), "auditor"
        ),
    ):
        with pytest.raises(Forbidden) as caught:
            attempt()
        assert caught.value.code == "not_permitted"
        assert "吴审计" in caught.value.message_zh and "需要" in caught.value.message_zh
    assert event_count(team) == before
    assert queries.show(team, "work_order", "WO-0001")["number"] == "WO-0001"  # reading is fine


def test_only_a_registered_clerk_files_warranty_claims(team: Archive) -> None:
    before = event_count(team)
    with pytest.raises(Forbidden) as unregistered:
        commands.file_document(team, "warranty_claim", warranty_claim(), "clerk2")
    assert unregistered.value.code == "clerk_not_registered"
    assert "备案" in unregistered.value.message_zh
    with pytest.raises(Forbidden):
        commands.file_document(team, "warranty_claim", warranty_claim(), "zhou")  # claims clerk
    assert event_count(team) == before
    file_claim(team)


def test_a_person_signs_only_in_a_role_he_holds(team: Archive) -> None:
    file_claim(team)
    with pytest.raises(Forbidden) as caught:
        commands.sign_document(team, "warranty_claim", "WC-0001", "service_manager", "li")
    assert caught.value.code == "role_not_held"
    commands.sign_document(team, "warranty_claim", "WC-0001", "service_manager", "sun")
    commands.sign_document(team, "warranty_claim", "WC-0001", "technician", "li")


def test_filers_per_kind_and_the_manager_voids(team: Archive) -> None:
    with pytest.raises(Forbidden):
        commands.file_document(team, "work_order", work_order(), "li")  # technicians don't
    commands.file_document(team, "work_order", work_order(), "wang")  # the advisor opens it
    with pytest.raises(Forbidden):
        commands.void_document(team, "work_order", "WO-0001", "重复", "li")
    commands.void_document(team, "work_order", "WO-0001", "重复开单", "sun")


# -- signatures ----------------------------------------------------------------------------


def test_refusing_needs_a_reason_and_the_role(team: Archive, models: ReadModels) -> None:
    file_claim(team)
    with pytest.raises(ValidationFailed):
        commands.refuse_signature(team, "warranty_claim", "WC-0001", "claims_clerk", " ", "zhou")
    with pytest.raises(Forbidden):
        commands.refuse_signature(team, "warranty_claim", "WC-0001", "claims_clerk", "x", "li")
    commands.refuse_signature(
        team, "warranty_claim", "WC-0001", "claims_clerk", "旧件编号与系统不符", "zhou"
    )
    history = queries.history(team, "warranty_claim", "WC-0001")
    assert history[-1]["event"] == "SignatureRefused"
    assert history[-1]["reason"] == "旧件编号与系统不符"
    refused = todo(team, models, "sun")["refused_signatures"]
    assert [(e["number"], e["refused_by"], e["reason"]) for e in refused] == [
        ("WC-0001", "周建", "旧件编号与系统不符")
    ]
    # Once the claims clerk signs after all, the refusal leaves the manager's list (a
    # refusal before a signature in the same role leaves that signature counting).
    doc = commands.sign_document(team, "warranty_claim", "WC-0001", "claims_clerk", "zhou")
    assert "claims_clerk" in doc.signed_roles()
    assert todo(team, models, "sun")["refused_signatures"] == []


def test_customer_signature_is_drawn_or_a_scan_of_this_document(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    commands.file_document(team, "work_order", work_order("WO-2"), "admin")
    other = commands.attach_scan(team, "work_order", "WO-2", io.BytesIO(pdf_bytes("WO-2")), "admin")
    other_scan = other.active_scans()[0].sha256
    before = event_count(team)
    with pytest.raises(BadInput):  # evidence of another document does not count
        commands.sign_document(
            team, "work_order", "WO-1", "customer", "admin", image_sha256=other_scan
        )
    with pytest.raises(BadInput) as not_png:
        commands.sign_document(
            team, "work_order", "WO-1", "customer", "admin", signature_image=io.BytesIO(pdf_bytes())
        )
    assert not_png.value.code == "signature_not_png"
    assert event_count(team) == before
    doc = commands.sign_document(
        team, "work_order", "WO-1", "customer", "admin", signature_image=io.BytesIO(png_bytes(9))
    )
    signature = doc.current_signatures()[0]
    assert signature.signer == "张三" and signature.actor == "admin"
    assert doc.active_scan(signature.image_sha256).label == "客户签名"
    slip = commands.attach_scan(
        team, "work_order", "WO-2", io.BytesIO(pdf_bytes("signed")), "admin"
    )
    slip_sha = slip.scans[-1].sha256
    commands.sign_document(team, "work_order", "WO-2", "customer", "admin", image_sha256=slip_sha)


def test_worklist_entry_disappears_when_the_signature_arrives(
    team: Archive, models: ReadModels
) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    assert numbers(todo(team, models, "li")["waiting_for_my_signature"]) == ["WO-0001"]
    assert numbers(todo(team, models, "wang")["waiting_for_my_signature"]) == ["WO-0001"]
    groups = {
        g["owner_label"]: numbers(g["documents"])
        for g in todo(team, models, "admin")["missing_signatures"]
    }
    assert groups == {"李师傅": ["WO-0001"], "王强": ["WO-0001"], "客户 张三": ["WO-0001"]}
    commands.sign_document(team, "work_order", "WO-0001", "technician", "li")
    assert todo(team, models, "li")["waiting_for_my_signature"] == []
    # A signature made before an amendment no longer counts: it is owed again.
    commands.amend_document(
        team, "work_order", "WO-0001", {"mileage_km": 12400}, "更正", 2, "admin"
    )
    assert numbers(todo(team, models, "li")["waiting_for_my_signature"]) == ["WO-0001"]


# -- off-site service ----------------------------------------------------------------------

OFFSITE = {
    "number": "FW-01",
    "business_date": "2026-11-03",
    "place": "京承高速 K35 服务区",
    "technicians": "li",
    "handheld_terminal_id": "SC-03",
    "fault_description": "车辆无法启动",
}


def test_offsite_departure_needs_the_clerks_signature(team: Archive, models: ReadModels) -> None:
    commands.file_document(team, "offsite_service", OFFSITE, "admin")
    with pytest.raises(Conflict) as early:
        commands.depart(team, "FW-01", "admin")
    assert early.value.code == "clerk_not_signed"
    assert "手持机" in early.value.message_zh
    with pytest.raises(Forbidden):
        commands.depart(team, "FW-01", "li")  # the clerk records it, not the technician
    commands.sign_document(team, "offsite_service", "FW-01", "clerk", "admin")
    doc = commands.depart(team, "FW-01", "admin", odometer_out="48,120")
    assert doc.departure["handheld_terminal_id"] == "SC-03"
    assert doc.signed_roles() == {"clerk"}  # leaving is not a change of content
    assert numbers(todo(team, models, "admin")["offsite_out"]) == ["FW-01"]
    with pytest.raises(ValidationFailed) as missing:
        commands.return_trip(team, "FW-01", "admin", mileage_claimed="", mileage_verified="-3")
    assert {p.field for p in missing.value.problems} == {"mileage_claimed", "mileage_verified"}
    doc = commands.return_trip(team, "FW-01", "admin", mileage_claimed=86, mileage_verified=72)
    assert doc.mileage_difference == 14
    assert todo(team, models, "admin")["offsite_out"] == []
    flagged = todo(team, models, "sun")["mileage_differences"]
    assert [(e["number"], e["difference_km"]) for e in flagged] == [("FW-01", 14)]


# -- deadlines -----------------------------------------------------------------------------


def test_warranty_claim_due_and_overdue_from_events(
    team: Archive, models: ReadModels, clock: FakeClock
) -> None:
    file_claim(team, "WC-1", business_date="2026-11-01", work_order_no="WO-1")
    file_claim(team, "WC-2", business_date="2026-11-06", work_order_no="WO-2")
    claims = todo(team, models, "admin", today=date(2026, 11, 10))["warranty_claims"]
    assert numbers(claims["overdue"]) == ["WC-1"]  # due 11-08
    assert numbers(claims["due"]) == ["WC-2"] and claims["due"][0]["days_left"] == 3
    sign_and_scan_claim(team, "WC-1")
    commands.submit_claim(team, "warranty_claim", "WC-1", "SVW-1", "admin")
    claims = todo(team, models, "admin", today=date(2026, 11, 10))["warranty_claims"]
    assert claims["overdue"] == []
    # The number of days is configuration, not code: 7 days make WC-2 overdue on 11-14 ...
    late = todo(team, models, "admin", today=date(2026, 11, 14))["warranty_claims"]
    assert numbers(late["overdue"]) == ["WC-2"]
    # ... and 10 days make it due on 11-16.
    team.settings = replace(team.settings, deadline_days={"warranty_claim_days": 10})
    relaxed = todo(team, models, "admin", today=date(2026, 11, 14))["warranty_claims"]
    assert numbers(relaxed["due"]) == ["WC-2"] and relaxed["due"][0]["due"] == "2026-11-16"


def test_callbacks_due_today_until_the_customer_is_reached(
    team: Archive, models: ReadModels
) -> None:
    commands.file_document(
        team, "work_order", work_order("WO-1", business_date="2026-11-07"), "admin"
    )
    commands.file_document(
        team, "work_order", work_order("WO-2", business_date="2026-11-01"), "admin"
    )
    callbacks = todo(team, models, "admin", today=date(2026, 11, 10))["callbacks"]
    assert numbers(callbacks["due_today"]) == ["WO-1"]
    assert numbers(callbacks["overdue"]) == ["WO-2"]
    call = {
        "business_date": "2026-11-10",
        "work_order_no": "WO-1",
        "customer_phone": "13800138000",
        "called_at": "2026-11-10 10:30",
    }
    commands.file_document(
        team, "callback", {**call, "number": "HF-1", "outcome": "无人接听"}, "admin"
    )
    assert numbers(
        todo(team, models, "admin", today=date(2026, 11, 10))["callbacks"]["due_today"]
    ) == ["WO-1"]
    commands.file_document(
        team, "callback", {**call, "number": "HF-2", "outcome": "reached"}, "admin"
    )
    assert todo(team, models, "admin", today=date(2026, 11, 10))["callbacks"]["due_today"] == []


def test_pdi_filed_after_delivery_is_listed(
    team: Archive, models: ReadModels, clock: FakeClock
) -> None:
    commands.register_staff(
        team, username="xs", name="销售小赵", roles=["sales_consultant"], actor="admin"
    )
    pdi = {
        "business_date": "2026-11-01",
        "vin": "LSVAM4188C2184825",
        "model": "朗逸",
        "inspector": "li",
        "checklist": [{"item": "漆面", "ok": "是"}],
    }
    clock.now = clock.now.replace(day=3)
    commands.file_document(
        team, "pdi_sheet", {**pdi, "number": "PDI-1", "delivery_date": "2026-11-05"}, "admin"
    )
    commands.file_document(
        team, "pdi_sheet", {**pdi, "number": "PDI-2", "delivery_date": "2026-11-02"}, "admin"
    )
    late = todo(team, models, "admin")["filed_late"]
    assert [(e["number"], e["due"]) for e in late] == [("PDI-2", "2026-11-02")]


def test_a_pdi_filed_early_in_the_morning_on_delivery_day_is_on_time(
    team: Archive, models: ReadModels, clock: FakeClock
) -> None:
    """Filed at 07:30 in Beijing (23:30 UTC the day before): the dealership's date counts."""
    pdi = {
        "business_date": "2026-11-01",
        "vin": "LSVAM4188C2184825",
        "model": "朗逸",
        "inspector": "li",
        "checklist": [{"item": "漆面", "ok": "是"}],
    }
    clock.now = datetime(2026, 11, 4, 23, 30, tzinfo=UTC)  # 2026-11-05 07:30 in Beijing
    commands.file_document(
        team, "pdi_sheet", {**pdi, "number": "PDI-1", "delivery_date": "2026-11-05"}, "admin"
    )
    commands.file_document(
        team, "pdi_sheet", {**pdi, "number": "PDI-2", "delivery_date": "2026-11-04"}, "admin"
    )
    late = todo(team, models, "admin")["filed_late"]
    assert [(e["number"], e["filed"]) for e in late] == [("PDI-2", "2026-11-05")]


def test_a_projection_of_another_shape_is_emptied_and_followed_again(tmp_path) -> None:
    """Worklists written when filed dates were UTC dates are replayed, not trusted."""
    from projections.sqlstore import SqliteProjection

    class Old(SqliteProjection):
        name = "example"
        tables = {"rows": "CREATE TABLE IF NOT EXISTS rows (v TEXT)"}  # noqa: RUF012

    class New(Old):
        shape = 2

    path = tmp_path / "p.db"
    old = Old(path)
    with old.batch() as batch:
        batch.conn.execute("INSERT INTO rows VALUES ('utc')")
        batch.position = 7
    old.close()
    assert Old(path).position() == 7  # the same shape keeps its rows
    new = New(path)
    assert new.position() == 0
    assert new.query("SELECT * FROM rows") == []
    with new.batch() as batch:
        batch.position = 3
    new.close()
    assert New(path).position() == 3  # the new shape is remembered: no second reset


def test_a_refusal_takes_back_the_roles_earlier_signature(
    team: Archive, models: ReadModels
) -> None:
    """Refusing after signing (issue 12 review): the role is owed again everywhere, and the
    claim cannot be submitted until someone in the role signs after the refusal."""
    file_claim(team)
    sign_and_scan_claim(team)
    commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1", "admin")
    doc = commands.refuse_signature(
        team, "warranty_claim", "WC-0001", "claims_clerk", "旧件编号不符", "zhou"
    )
    assert doc.missing_roles(["technician", "claims_clerk"]) == ["claims_clerk"]
    assert doc.status(["claims_clerk"]) == "awaiting_signatures"
    with pytest.raises(Conflict) as caught:
        commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-2", "admin")
    assert "索赔员尚未在当前版本上签字" in caught.value.message_zh
    refused = todo(team, models, "sun")["refused_signatures"]
    assert [(e["number"], e["reason"]) for e in refused] == [("WC-0001", "旧件编号不符")]
    row = claim_row(models)
    assert row.missing_roles == ("claims_clerk",) and row.status == "awaiting_signatures"
    assert [b.code for b in row.blockers] == ["unsigned", "unsubmitted"]
    # Signing after the refusal counts again.
    commands.sign_document(team, "warranty_claim", "WC-0001", "claims_clerk", "zhou")
    commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-2", "admin")
    assert todo(team, models, "sun")["refused_signatures"] == []
    row = claim_row(models)
    assert row.missing_roles == () and row.blockers == ()


def claim_row(models: ReadModels) -> Any:
    return next(d for d in models.months.documents("2026-11") if d.number == "WC-0001")
