"""Links between papers (issue 12, item 1): checked when filed or amended, recorded with the
document, refused in Chinese naming the field, or filed unlinked only with a reason; and the
values a new paper takes from the one it is created from (item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.cli import app
from archive.config import Settings
from archive.errors import BadInput, Conflict, ValidationFailed
from tests.support import OTHER_VIN, event_count, register_team, warranty_claim, work_order


def refused(archive: Archive, attempt) -> ValidationFailed:
    """The refusal of ``attempt``, which must leave the archive as it was."""
    before = event_count(archive)
    with pytest.raises(ValidationFailed) as caught:
        attempt()
    assert event_count(archive) == before
    return caught.value


def callback(number: str = "CB-1", **overrides) -> dict:
    data = {
        "number": number,
        "business_date": "2026-11-05",
        "work_order_no": "WO-0001",
        "customer_phone": "13800138000",
        "called_at": "2026-11-05 10:30",
        "outcome": "reached",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_claim_names_a_filed_order_or_gives_a_reason(team: Archive) -> None:
    claim = warranty_claim(work_order_no="WO-404")
    error = refused(team, lambda: commands.file_document(team, "warranty_claim", claim, "admin"))
    (problem,) = error.problems
    assert problem.field == "work_order_no"
    assert "没有维修委托书 WO-404" in problem.message_zh and "未关联原因" in problem.message_zh
    doc = commands.file_document(
        team, "warranty_claim", claim, "admin", unlinked_reason="系统启用前的纸质委托书"
    )
    link = doc.links["work_order_no"]
    assert (link["state"], link["target_number"]) == ("unlinked", "WO-404")
    assert link["reason"] == "系统启用前的纸质委托书"
    replayed = team.app.repository.get(doc.id)
    assert replayed.links == doc.links and replayed.version == 2  # Filed + LinksRecorded


def test_vin_date_and_voided_orders_are_refused_mileage_is_flagged(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(mileage_km="23,456"), "admin")
    for overrides, field in (
        ({"vin": OTHER_VIN}, "vin"),
        ({"business_date": "2026-11-02"}, "business_date"),
    ):
        claim = warranty_claim(mileage_km=23456, **overrides)
        error = refused(
            team, lambda c=claim: commands.file_document(team, "warranty_claim", c, "admin")
        )
        assert [p.field for p in error.problems] == [field]
        assert "WO-0001" in error.problems[0].message_zh
    doc = commands.file_document(team, "warranty_claim", warranty_claim(mileage_km=1000), "admin")
    link = doc.links["work_order_no"]
    assert link["state"] == "mileage_differs"
    assert link["detail"] == "维修委托书里程 23456 km，本单 1000 km"
    # A live claim names the order: voiding it is refused, naming the claim, until the claim
    # is voided first (a voided order never shows 已关联 in its case file).
    before = event_count(team)
    with pytest.raises(Conflict) as caught:
        commands.void_document(team, "work_order", "WO-0001", "重复开单", "sun")
    assert "先作废或更正以下单据：三包索赔单 WC-0001" in caught.value.message_zh
    assert event_count(team) == before
    commands.void_document(team, "warranty_claim", "WC-0001", "随委托书作废", "sun")
    commands.void_document(team, "work_order", "WO-0001", "重复开单", "sun")
    sheet = {
        "number": "WZ-1",
        "business_date": "2026-11-03",
        "work_order_no": "WO-0001",
        "customer_words": "刹车响",
        "advisor_findings": "刹车片磨损",
        "service_advisor": "wang",
    }
    error = refused(team, lambda: commands.file_document(team, "diagnostic_sheet", sheet, "admin"))
    assert "已作废" in error.problems[0].message_zh


def test_a_callback_names_an_order_or_a_registration(team: Archive) -> None:
    error = refused(
        team,
        lambda: commands.file_document(team, "callback", callback(work_order_no=None), "admin"),
    )
    assert error.problems[0].field == "work_order_no"
    assert "请填写维修委托书号" in error.problems[0].message_zh
    commands.register_staff(
        team, username="xs", name="许销售", roles=["sales_consultant"], actor="admin"
    )
    registration = {
        "number": "BX-1",
        "business_date": "2026-11-01",
        "vin": work_order()["vin"],
        "customer_name": "张三",
        "customer_phone": "13800138000",
        "purchase_date": "2026-10-30",
        "delivery_date": "2026-11-01",
        "sales_consultant": "xs",
    }
    commands.file_document(team, "warranty_registration", registration, "admin")
    delivery = callback(work_order_no=None, registration_no="BX-1", business_date="2026-11-08")
    doc = commands.file_document(team, "callback", delivery, "admin")
    assert doc.links == {
        "registration_no": {
            "field": "registration_no",
            "target_kind": "warranty_registration",
            "target_number": "BX-1",
            "state": "ok",
            "reason": "",
            "detail": "",
        }
    }


def test_quick_handling_checks_a_callback_source_not_a_complaint(team: Archive) -> None:
    form = {
        "number": "KS-1",
        "business_date": "2026-11-05",
        "source": "callback",
        "source_no": "CB-9",
        "description": "客户反映异响未消除",
        "action": "约客户回厂复查",
    }
    error = refused(team, lambda: commands.file_document(team, "quick_handling", form, "admin"))
    assert (
        error.problems[0].field == "source_no" and "回访记录 CB-9" in error.problems[0].message_zh
    )
    # A complaint is not a kind of paper here yet: its number is kept as written, unchecked.
    doc = commands.file_document(team, "quick_handling", {**form, "source": "complaint"}, "admin")
    assert doc.links == {}


def test_an_amended_link_is_checked_again_and_recorded(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    commands.file_document(team, "work_order", work_order("WO-2"), "admin")
    doc = commands.file_document(team, "callback", callback(), "admin")
    error = refused(
        team,
        lambda: commands.amend_document(
            team, "callback", "CB-1", {"work_order_no": "WO-9"}, "抄错", doc.version, "admin"
        ),
    )
    assert error.problems[0].field == "work_order_no"
    amended = commands.amend_document(
        team, "callback", "CB-1", {"work_order_no": "WO-2"}, "抄错单号", doc.version, "admin"
    )
    assert amended.links["work_order_no"]["target_number"] == "WO-2"
    assert amended.version == doc.version + 2  # Amended and LinksRecorded, in one commit
    # A change that touches no link records no link.
    again = commands.amend_document(
        team, "callback", "CB-1", {"customer_words": "满意"}, "补记", amended.version, "admin"
    )
    assert again.version == amended.version + 1


def test_prefill_from_an_order_and_from_a_callback(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    claim = commands.prefill(team, "warranty_claim", "work_order", "WO-0001")
    assert claim == {
        "business_date": "2026-11-03",
        "work_order_no": "WO-0001",
        "vin": "1M8GDM9AXKP042788",
        "plate": "京A12345",
        "model": "大众朗逸",
        "mileage_km": 12345,
        "customer_name": "张三",
        "customer_phone": "13800138000",
        "technicians": ["li"],
        "fault_description": "制动时有异响，刹车片磨损严重",
    }
    commands.file_document(team, "callback", callback(customer_name="张三"), "admin")
    form = commands.prefill(team, "quick_handling", "callback", "CB-1")
    assert form == {
        "business_date": "2026-11-03",  # today, on the dealership's clock
        "source": "callback",
        "source_no": "CB-1",
        "work_order_no": "WO-0001",
        "customer_name": "张三",
        "customer_phone": "13800138000",
    }
    with pytest.raises(BadInput) as wrong:
        commands.prefill(team, "pdi_sheet", "work_order", "WO-0001")
    assert wrong.value.code == "cannot_create_from"


# -- the command line (SQLite) ------------------------------------------------------------------


def test_file_and_draft_from_an_order_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = open_archive(Settings(home=home))
    try:
        register_team(archive)
        commands.file_document(archive, "work_order", work_order(), "admin")
    finally:
        archive.close()
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_STAFF": "admin"}
    drafted = runner.invoke(
        app, ["draft", "warranty_claim", "--from", "work_order", "WO-0001"], env=env
    )
    assert drafted.exit_code == 0, drafted.output
    assert json.loads(drafted.stdout)["mileage_km"] == 12345
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps({"number": "WC-1", "handling_process": "更换刹车片", "service_fee": "80"}),
        encoding="utf-8",
    )
    args = ["file", "warranty_claim", "--from", "work_order", "WO-0001", "--data", str(extra)]
    filed = runner.invoke(app, args, env=env)
    assert filed.exit_code == 0, filed.output
    assert "三包索赔单 WC-1" in filed.output
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(warranty_claim("WC-2", work_order_no="WO-404")), "utf-8")
    refusal = runner.invoke(app, ["file", "warranty_claim", "--data", str(unknown)], env=env)
    assert refusal.exit_code == 2 and "没有维修委托书 WO-404" in refusal.output
    reasoned = runner.invoke(
        app,
        ["file", "warranty_claim", "--data", str(unknown), "--unlinked-reason", "旧纸质单"],
        env=env,
    )
    assert reasoned.exit_code == 0, reasoned.output


def test_an_imported_claim_is_checked_like_a_filed_one(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    rows = [(2, warranty_claim("WC-1")), (3, warranty_claim("WC-2", work_order_no="WO-404"))]
    before = event_count(team)
    with pytest.raises(commands.ImportFailed) as caught:
        commands.file_batch(team, "warranty_claim", rows, "admin")
    assert event_count(team) == before
    assert [(p.line, p.field) for p in caught.value.problems] == [(3, "work_order_no")]
    (doc,) = commands.file_batch(team, "warranty_claim", rows[:1], "admin")
    assert doc.links["work_order_no"]["state"] == "ok"
