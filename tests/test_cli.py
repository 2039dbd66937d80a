"""The ``archive`` command, driven as a script would drive it, on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.cli import app
from tests.support import OTHER_VIN, TEAM, VALID_VIN, pdf_bytes, png_bytes, work_order


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_STAFF": "admin"}

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


@pytest.fixture
def staffed(run):
    for username, name, roles, registration_no in TEAM:
        args = ["staff", "add", username, "--name", name]
        for role in roles:
            args += ["--role", role]
        if registration_no:
            args += ["--registration-no", registration_no]
        result = run(*args)
        assert result.exit_code == 0, result.output
    return run


def test_help_everywhere(run) -> None:
    for args in (["--help"], ["file", "--help"], ["staff", "add", "--help"], ["import", "--help"]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_init_and_is_empty(run, tmp_path: Path) -> None:
    result = run("init", "--json")
    assert result.exit_code == 0
    # Both keys, so copying keys/ to another server's home shares the web's session key too.
    keys = tmp_path / "home" / "keys"
    assert (keys / "session.key").stat().st_mode & 0o777 == 0o600
    assert (keys / "checkpoint.key").is_file()
    assert json.loads(result.output)["events"] == 0
    assert run("is-empty").exit_code == 0


def test_file_show_amend_history_as_json(staffed, tmp_path: Path) -> None:
    data = tmp_path / "wo.json"
    data.write_text(json.dumps(work_order(), ensure_ascii=False), encoding="utf-8")
    filed = staffed("file", "work_order", "--data", str(data), "--json")
    assert filed.exit_code == 0, filed.output
    assert json.loads(filed.output)["version"] == 1
    assert staffed("is-empty").exit_code == 1

    amended = staffed(
        "amend", "work_order", "WO-0001", "--data", "-", "--reason", "抄错里程",
        "--expected-version", "1", "--json",
        input='{"mileage_km": 12400}',
    )  # fmt: skip
    assert amended.exit_code == 0, amended.output
    stale = staffed(
        "amend", "work_order", "WO-0001", "--data", "-", "--reason", "再改",
        "--expected-version", "1",
        input='{"mileage_km": 12500}',
    )  # fmt: skip
    assert stale.exit_code == 1
    assert "第 2 版" in stale.output

    history = json.loads(staffed("history", "work_order", "WO-0001", "--json").output)
    assert [e["event"] for e in history] == ["Filed", "Amended"]
    assert history[1]["changes"][0]["before"] == 12345
    old = json.loads(staffed("show", "work_order", "WO-0001", "--version", "1", "--json").output)
    assert old["fields"]["mileage_km"] == 12345
    text = staffed("show", "work_order", "WO-0001")
    assert "行驶里程（km）：12400" in text.output
    assert "服务顾问：王强" in text.output  # the username shown by its full name


def test_bad_input_exits_2_naming_each_field(staffed) -> None:
    bad = work_order(vin=VALID_VIN[:8] + "1" + VALID_VIN[9:], customer_phone="123")
    result = staffed("file", "work_order", "--data", "-", input=json.dumps(bad))
    assert result.exit_code == 2
    assert "vin:" in result.output and "customer_phone:" in result.output
    assert "校验位" in result.output
    as_json = staffed("file", "work_order", "--data", "-", "--json", input=json.dumps(bad))
    assert as_json.exit_code == 2
    assert {p["field"] for p in json.loads(as_json.output)["problems"]} == {
        "vin",
        "customer_phone",
    }
    assert staffed("file", "work_order", "--data", "-", input="{not json").exit_code == 2
    assert staffed("file", "no_such_kind", "--data", "-", input="{}").exit_code == 2
    assert staffed("show", "work_order", "WO-0001", "--as-of", "yesterday").exit_code == 2
    assert staffed("is-empty").exit_code == 1  # staff only, no document was filed
    assert staffed("show", "work_order", "WO-0001").exit_code == 1


def test_attach_void_and_as_of(staffed, tmp_path: Path) -> None:
    staffed("file", "work_order", "--data", "-", input=json.dumps(work_order()))
    scan = tmp_path / "slip.pdf"
    scan.write_bytes(pdf_bytes())
    assert staffed("attach", "work_order", "WO-0001", str(scan)).exit_code == 0
    fake = tmp_path / "fake.pdf"
    fake.write_text("not a pdf")
    refused = staffed("attach", "work_order", "WO-0001", str(fake))
    assert refused.exit_code == 2
    assert "PDF" in refused.output
    shown = json.loads(staffed("show", "work_order", "WO-0001", "--json").output)
    filed_at = shown["filed_at"]
    assert staffed("void", "work_order", "WO-0001", "--reason", "重复开单").exit_code == 0
    # (The state between two events is checked with a controlled clock in test_write_path.)
    then = json.loads(
        staffed("show", "work_order", "WO-0001", "--as-of", filed_at, "--json").output
    )
    assert then["number"] == "WO-0001"
    earlier = staffed("show", "work_order", "WO-0001", "--as-of", "2020-01-01T00:00")
    assert earlier.exit_code == 1
    assert "尚未存档" in earlier.output
    now = json.loads(staffed("show", "work_order", "WO-0001", "--json").output)
    assert now["status"] == "voided" and len(now["scans"]) == 1


def _csv(rows: list[dict], header: list[str], codes: list[str]) -> str:
    lines = [",".join(header)]
    for row in rows:
        cells = []
        for code in codes:
            value = row.get(code, "")
            if isinstance(value, list):
                value = json.dumps(value, ensure_ascii=False)
            text = str(value).replace('"', '""')
            cells.append(f'"{text}"')
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


CODES = [
    "number", "business_date", "vin", "plate", "model", "mileage_km", "customer_name",
    "customer_phone", "service_advisor", "fault_description", "parts_lines",
]  # fmt: skip
LABELS = [
    "委托书号", "开单日期", "VIN（车架号）", "车牌号", "车型", "行驶里程(km)", "客户姓名",
    "客户手机", "服务顾问", "车辆故障描述", "配件",
]  # fmt: skip


def test_import_gbk_csv_with_chinese_headers(staffed, tmp_path: Path) -> None:
    rows = [work_order(f"WO-{i}") for i in range(1, 4)]
    rows[1]["vin"] = OTHER_VIN
    rows[2]["fault_description"] = "空调不制冷，\n出风口有异味"  # a multi-line cell
    path = tmp_path / "dms.csv"
    path.write_bytes(_csv(rows, LABELS, CODES).encode("gbk"))
    result = staffed("import", "work_order", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["filed"] == 3
    shown = json.loads(staffed("show", "work_order", "WO-3", "--json").output)
    assert shown["fields"]["fault_description"] == "空调不制冷，\n出风口有异味"
    assert shown["fields"]["parts_lines"][0]["part_no"] == "5QD698151"


def test_import_reports_bad_row_by_line_and_files_nothing(staffed, tmp_path: Path) -> None:
    rows = [work_order(f"WO-{i}") for i in range(1, 5)]
    rows[0]["fault_description"] = "第一行\n跨两行"
    rows[2]["vin"] = "LSVAM4187C2184825"  # check digit should be 8
    path = tmp_path / "dms.csv"
    path.write_text("\ufeff" + _csv(rows, CODES, CODES), encoding="utf-8")
    result = staffed("import", "work_order", str(path), "--json")
    assert result.exit_code == 2
    problems = json.loads(result.output)["problems"]
    # header is line 1, WO-1 spans lines 2-3, WO-2 is line 4, WO-3 line 5
    assert [(p["line"], p["field"]) for p in problems] == [(5, "vin")]
    assert staffed("show", "work_order", "WO-1").exit_code == 1

    unknown = tmp_path / "unknown.csv"
    unknown.write_text("委托书号,颜色\nWO-9,红\n", encoding="utf-8")
    refused = staffed("import", "work_order", str(unknown))
    assert refused.exit_code == 2
    assert "颜色" in refused.output


def test_staff_commands(staffed) -> None:
    listed = json.loads(staffed("staff", "list", "--json").output)
    assert {p["username"] for p in listed} == {t[0] for t in TEAM}
    refused = staffed("staff", "add", "x", "--name", "某", "--role", "clerk", "--staff", "li")
    assert refused.exit_code == 1
    assert "管理员" in refused.output
    result = staffed("staff", "deactivate", "li", "--reason", "离职", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["active"] is False


def test_kinds_lists_the_registry(run) -> None:
    described = json.loads(run("kinds", "--json").output)
    assert {k["code"] for k in described} >= {"work_order", "warranty_claim", "daily_report"}
    assert "VIN" in run("kinds", "work_order").output


def test_signoff_commands_and_todo(staffed, tmp_path: Path) -> None:
    staffed("file", "work_order", "--data", "-", input=json.dumps(work_order()))
    waiting = json.loads(staffed("todo", "--staff", "li", "--json").output)
    assert [e["number"] for e in waiting["waiting_for_my_signature"]] == ["WO-0001"]
    wrong_role = staffed(
        "sign", "work_order", "WO-0001", "--as", "service_manager", "--staff", "li"
    )
    assert wrong_role.exit_code == 1 and "不需要服务经理签字" in wrong_role.output
    assert (
        staffed("sign", "work_order", "WO-0001", "--as", "technician", "--staff", "li").exit_code
        == 0
    )
    drawn = tmp_path / "sig.png"
    drawn.write_bytes(png_bytes(3))
    signed = staffed("sign", "work_order", "WO-0001", "--as", "customer", "--image", str(drawn))
    assert signed.exit_code == 0, signed.output
    refused = staffed(
        "refuse", "work_order", "WO-0001", "--as", "service_advisor", "--reason", "工时不符",
        "--staff", "wang",
    )  # fmt: skip
    assert refused.exit_code == 0
    manager = json.loads(staffed("todo", "--staff", "孙经理", "--json").output)
    assert [e["reason"] for e in manager["refused_signatures"]] == ["工时不符"]
    assert "客户 张三 · 客户" not in staffed("todo", "--staff", "admin").output  # signed
    table = json.loads(staffed("permissions", "--json").output)
    assert {"action": "seal", "label": "封存月度卷", "kind": None, "roles": ["service_manager"],
            "registered_clerk": False} in table  # fmt: skip


def test_offsite_depart_and_return_commands(staffed) -> None:
    order = {
        "number": "FW-01", "business_date": "2026-11-03", "place": "服务区",
        "technicians": "li", "handheld_terminal_id": "SC-03",
    }  # fmt: skip
    staffed("file", "offsite_service", "--data", "-", input=json.dumps(order, ensure_ascii=False))
    early = staffed("depart", "FW-01")
    assert early.exit_code == 1 and "手持机" in early.output
    staffed("sign", "offsite_service", "FW-01", "--as", "clerk")
    assert staffed("depart", "FW-01", "--odometer-out", "48120").exit_code == 0
    back = staffed("return", "FW-01", "--claimed", "86", "--verified", "72")
    assert back.exit_code == 0 and "相差 14 km" in back.output


def test_deadline_days_from_settings_file_and_environment(tmp_path: Path) -> None:
    from archive.config import Settings

    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text("[deadlines]\nwarranty_claim_days = 5\n")
    settings = Settings.from_env({"ARCHIVE_HOME": str(home)})
    assert settings.deadline_days == {"warranty_claim_days": 5}
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_DEADLINE_CALLBACK_DAYS": "2"}
    assert Settings.from_env(env).deadline_days == {"warranty_claim_days": 5, "callback_days": 2}
    with pytest.raises(ValueError, match="days"):
        Settings.from_env({"ARCHIVE_HOME": str(home), "ARCHIVE_DEADLINE_CALLBACK_DAYS": "soon"})


def test_show_history_and_todo_say_it_in_words(staffed) -> None:
    """Staff changes read as names, 代签 and link checks show, every worklist has its heading."""
    staffed("staff", "add", "liu", "--name", "刘师傅", "--role", "technician")
    staffed("staff", "add", "lead", "--name", "郑组长", "--role", "workshop_lead")
    staffed("file", "work_order", "--data", "-", input=json.dumps(work_order()))
    amended = staffed(
        "amend", "work_order", "WO-0001", "--data", "-", "--reason", "补技师",
        "--expected-version", "1", input='{"technicians": ["li", "liu"]}',
    )  # fmt: skip
    assert amended.exit_code == 0, amended.output
    signed = staffed(
        "sign", "work_order", "WO-0001", "--as", "technician", "--staff", "lead",
        "--on-behalf-of", "li", "--reason", "李师傅休假",
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    history = staffed("history", "work_order", "WO-0001").output
    assert "维修技师：李师傅 → 李师傅、刘师傅" in history
    assert "维修技师 郑组长（签署内容" in history and "（代 李师傅 签：李师傅休假）" in history
    shown = staffed("show", "work_order", "WO-0001")
    assert "✔ 维修技师：郑组长" in shown.output and "（代 李师傅 签：李师傅休假）" in shown.output
    assert "标记：" in shown.output and "代签" in shown.output.split("标记：")[1]
    view = json.loads(staffed("show", "work_order", "WO-0001", "--json").output)
    assert "on_behalf" in view["flags"] and view["links"] == []
    (sig,) = view["signatures"]
    assert (sig["signer"], sig["on_behalf_of"], sig["on_behalf_reason"]) == (
        "lead",
        "li",
        "李师傅休假",
    )
    assert (
        json.loads(staffed("show", "work_order", "WO-0001", "--version", "1", "--json").output)[
            "flags"
        ]
        is None
    )
    clerk = staffed("todo", "--staff", "admin").output
    for heading in ("等我签字：", "三包索赔单上报：", "逾期上报的三包索赔单：", "客户问题待处理："):
        assert heading in clerk, heading
    manager = staffed("todo", "--staff", "sun").output
    for heading in ("客户问题待处理：", "拒签：0 份", "返修：0 份", "外出里程差异：0 份"):
        assert heading in manager, heading
