"""Issue 12 in the JSON API and the reading CLI: a work order's case file, drafts from another
paper and of the daily report, filing with the link reasons, 代签, a submission refused with
what is missing, vehicles by plate or VIN ending, customers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive
from archive.cli import app as cli
from tests import test_api
from tests.support import TEAM, VALID_VIN, event_count, warranty_claim, work_order
from tests.test_api import Api, refused

api = test_api.api  # the fixture: a token for each of the team
SQLITE = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
CASE = "/documents/work_order/WO-0001/case"


def test_a_claim_is_drafted_from_its_order_filed_and_found_in_the_case_file(
    api: Api, team: Archive
) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    assert api.ok("GET", CASE)["documents"] == []
    draft = api.ok("GET", "/drafts/warranty_claim", params={"from": "work_order:WO-0001"})
    assert draft["work_order_no"] == "WO-0001" and draft["vin"] == VALID_VIN
    assert draft["mileage_km"] == 12345 and draft["technicians"] == ["li"]
    rest = {k: v for k, v in warranty_claim().items() if k not in draft}
    filed = api.ok(
        "POST", "/documents/warranty_claim", params={"from": "work_order:WO-0001"}, json=rest
    )
    assert filed["fields"]["vin"] == VALID_VIN
    case = api.ok("GET", CASE)
    assert [(d["kind"], d["number"], d["link_state"]) for d in case["documents"]] == [
        ("warranty_claim", "WC-0001", "ok")
    ]
    assert {"kind": "warranty_claim", "label": "三包索赔单", "field": "work_order_no"} in (
        case["create"]
    )
    # A second claim on the order is refused at its field until its reason is given.
    before = event_count(team)
    second = {**warranty_claim("WC-0002")}
    body = refused(api("POST", "/documents/warranty_claim", json=second), 422, "invalid")
    assert body["problems"][0]["field"] == "work_order_no" and event_count(team) == before
    api.ok(
        "POST",
        "/documents/warranty_claim",
        params={"further_reason": "同一次维修另一故障"},
        json=second,
    )
    flags = {d["number"]: d["flags"] for d in api.ok("GET", CASE)["documents"]}
    assert "further_claim" in flags["WC-0002"]
    refused(api("GET", "/documents/work_order/WO-9999/case"), 404, "document_not_found")


@SQLITE
def test_unlinked_drafts_and_refusals_in_the_api(api: Api, team: Archive) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    paper = warranty_claim(work_order_no="WO-1999")
    refused(api("POST", "/documents/warranty_claim", json=paper), 422, "invalid")
    filed = api.ok(
        "POST",
        "/documents/warranty_claim",
        params={"unlinked_reason": "旧系统纸质单补录"},
        json=paper,
    )
    assert filed["number"] == "WC-0001"
    shown = api.ok("GET", "/documents/warranty_claim/WC-0001")
    ((link),) = shown["links"]
    assert (link["field"], link["state"], link["state_label"], link["reason"]) == (
        "work_order_no", "unlinked", "未关联", "旧系统纸质单补录"
    )  # fmt: skip
    assert "unlinked" in shown["flags"] and "未关联" in shown["flag_labels"]
    history = api.ok("GET", "/documents/warranty_claim/WC-0001/history")
    (recorded,) = [e for e in history if e["event"] == "LinksRecorded"]
    assert recorded["detail"]["links"][0]["reason"] == "旧系统纸质单补录"
    refused(api("GET", "/drafts/warranty_claim"), 422, "no_source")
    refused(api("GET", "/drafts/warranty_claim?from=work_order:WO-9"), 404, "document_not_found")
    refused(api("GET", "/drafts/work_order?from=callback:CB-1"), 422, "cannot_create_from")
    report = api.ok("GET", "/drafts/daily_report", params={"day": "2026-11-03"})
    assert report["number"] == "DR20261103" and report["work_order_count"] == 1
    assert report["revenue"] == "570.50" and report["lines"][0]["work_order_no"] == "WO-0001"
    # (before the day's report: a second one the same day is refused as a conflict first)
    wrong = {**report, "number": "DR-X", "revenue": "99999"}
    body = refused(api("POST", "/documents/daily_report", json=wrong), 422, "invalid")
    assert [p["field"] for p in body["problems"]] == ["revenue"]
    filed = api.ok("POST", "/documents/daily_report", json=report)
    assert filed["status"] == "awaiting_signatures"


@SQLITE
def test_sign_on_behalf_and_submission_gaps_in_the_api(api: Api, team: Archive) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    api.ok("POST", "/documents/warranty_claim", json=warranty_claim())
    url = "/documents/warranty_claim/WC-0001"
    body = refused(
        api("POST", url + "/submission", json={"claim_no": "SVW-1"}), 409, "not_ready_to_submit"
    )
    assert "维修技师" in body["message_zh"] and "扫描件" in body["message_zh"]
    behalf = {"role": "technician", "on_behalf_of": "li", "on_behalf_reason": "休假"}
    refused(api("POST", url + "/signatures", "zhou", json=behalf), 403, "not_permitted_on_behalf")
    commands.register_staff(
        team, username="lead", name="郑组长", roles=["workshop_lead"], actor="admin"
    )
    token = commands.issue_token(team, "lead", "API 测试", "admin")[1]
    api.tokens["lead"] = token
    signed = api.ok("POST", url + "/signatures", "lead", json=behalf)
    (sig,) = [s for s in signed["signatures"] if s["role"] == "technician"]
    assert sig["signer"] == "lead"
    shown = api.ok("GET", url)
    (sig,) = [s for s in shown["signatures"] if s["role"] == "technician"]
    assert (sig["on_behalf_of"], sig["on_behalf_of_name"], sig["on_behalf_reason"]) == (
        "li", "李师傅", "休假"
    )  # fmt: skip
    assert "on_behalf" in shown["flags"]
    assert api.ok("GET", url, params={"version": 1})["flags"] is None  # an earlier state
    (entry,) = [e for e in api.ok("GET", url + "/history") if e["event"] == "Signed"]
    assert entry["detail"]["on_behalf_of"] == "li"
    flags = api.ok("GET", "/search", params={"q": "flag:on_behalf"})["hits"]
    assert [h["number"] for h in flags] == ["WC-0001"]


@SQLITE
def test_vehicles_and_customers_in_the_api(api: Api) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    for key in ("京A12345", "A12345", VALID_VIN[-8:], "13800138000"):
        found = api.ok("GET", "/vehicles", params={"q": key})["vehicles"]
        assert [v["vin"] for v in found] == [VALID_VIN], key
    assert api.ok("GET", "/vehicles", params={"q": "京Z99999"})["vehicles"] == []
    card = api.ok("GET", f"/vehicles/{VALID_VIN}")
    assert card["vehicle"]["plate"] == "京A12345" and card["vehicle"]["visits"] == 1
    person = api.ok("GET", "/customers/13800138000")
    assert person["name"] == "张三" and person["service_advisor_name"] == "王强"
    assert [v["vin"] for v in person["vehicle_list"]] == [VALID_VIN]
    listed = api.ok("GET", "/customers", params={"name": "张"})
    assert listed["total"] == 1 and listed["customers"][0]["phone"] == "13800138000"
    refused(api("GET", "/customers/13900000000"), 404, "customer_not_found")


# -- the reading CLI ----------------------------------------------------------------------


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_STAFF": "admin"}

    def invoke(*args: str):
        return runner.invoke(cli, list(args), env=env)

    for username, name, roles, registration_no in TEAM:
        args = ["staff", "add", username, "--name", name, *(f"--role={r}" for r in roles)]
        assert (
            invoke(
                *args, *([f"--registration-no={registration_no}"] if registration_no else [])
            ).exit_code
            == 0
        )
    data = tmp_path / "wo.json"
    data.write_text(json.dumps(work_order(), ensure_ascii=False), encoding="utf-8")
    assert invoke("file", "work_order", "--data", str(data)).exit_code == 0
    claim = tmp_path / "wc.json"
    rest = {
        k: v
        for k, v in warranty_claim().items()
        if k in ("number", "handling_process", "service_fee", "parts")
    }
    claim.write_text(json.dumps(rest, ensure_ascii=False), encoding="utf-8")
    filed = invoke(
        "file", "warranty_claim", "--from", "work_order", "WO-0001", "--data", str(claim)
    )
    assert filed.exit_code == 0, filed.output
    return invoke


def test_the_case_vehicle_and_customer_commands(run) -> None:
    case = run("case", "WO-0001")
    assert case.exit_code == 0, case.output
    assert "三包索赔单 WC-0001" in case.output and "已关联" in case.output
    assert "archive file diagnostic_sheet --from work_order WO-0001" in case.output
    listed = json.loads(run("case", "WO-0001", "--json").output)
    assert [d["number"] for d in listed["documents"]] == ["WC-0001"]
    for key in ("京A12345", "A12345", VALID_VIN[-6:], VALID_VIN):
        card = run("vehicle", key)
        assert card.exit_code == 0 and "车主 张三" in card.output and "WO-0001" in card.output, key
    missing = run("vehicle", "京Z99999")
    assert missing.exit_code == 1 and "没有“京Z99999”的记录" in missing.output
    person = run("customer", "13800138000")
    assert person.exit_code == 0 and "客户 张三" in person.output and VALID_VIN in person.output
    assert json.loads(run("customers", "--json").output)["total"] == 1
    assert run("case", "WO-9999").exit_code == 1
