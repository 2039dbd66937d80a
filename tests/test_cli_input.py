"""Issue 17 on the command line (items 4 and 7): files that are not UTF-8, CSV cells too long
or nested too deep, a version that does not exist, departure and return in ``show``, old
events holding escape sequences, and progress where there is no terminal."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.bootstrap import open_archive
from archive.cli import app
from archive.cli._shared import progress_bar
from archive.config import Settings
from events.document import Document
from tests.support import TEAM, work_order


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def run(home: Path):
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_STAFF": "admin"}

    def invoke(*args: str, input: str | bytes | None = None):
        return runner.invoke(app, list(args), env=env, input=input)

    for username, name, roles, registration_no in TEAM:
        args = ["staff", "add", username, "--name", name]
        for role in roles:
            args += ["--role", role]
        if registration_no:
            args += ["--registration-no", registration_no]
        assert invoke(*args).exit_code == 0
    return invoke


def test_a_data_file_not_in_utf8_is_a_clear_error(run, tmp_path: Path) -> None:
    data = tmp_path / "wo.json"
    data.write_bytes(json.dumps(work_order(), ensure_ascii=False).encode("gbk"))
    for result in (
        run("file", "work_order", "--data", str(data)),
        run("file", "work_order", "--data", "-", input=data.read_bytes()),
    ):
        assert result.exit_code == 2, result.output
        assert "不是 UTF-8 编码" in result.output and "not UTF-8" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert run("show", "work_order", "WO-0001").exit_code == 1  # nothing was filed


def test_a_data_file_with_a_bom_is_read(run, tmp_path: Path) -> None:
    data = tmp_path / "wo.json"
    data.write_bytes(b"\xef\xbb\xbf" + json.dumps(work_order(), ensure_ascii=False).encode())
    assert run("file", "work_order", "--data", str(data)).exit_code == 0


@pytest.mark.parametrize(
    "body", ['{"a":' * 100_000 + "1" + "}" * 100_000, '{"mileage_km": ' + "9" * 5000 + "}"]
)
def test_json_nested_too_deep_or_with_an_endless_number_is_refused(run, body: str) -> None:
    result = run("file", "work_order", "--data", "-", input=body)
    assert result.exit_code == 2, result.output
    assert "JSON" in result.output
    assert isinstance(result.exception, SystemExit)


def test_show_refuses_a_version_the_document_does_not_have(run) -> None:
    run("file", "work_order", "--data", "-", input=json.dumps(work_order()))
    missing = run("show", "work_order", "WO-0001", "--version", "99")
    assert missing.exit_code == 1
    assert "该单据没有第 99 版" in missing.output and "no version 99" in missing.output
    as_json = run("show", "work_order", "WO-0001", "--version", "99", "--json")
    assert json.loads(as_json.output)["error"] == "version_not_found"
    for absurd in ("0", "-3", str(2**63)):
        assert run("show", "work_order", "WO-0001", "--version", absurd).exit_code == 1
    assert (
        json.loads(run("show", "work_order", "WO-0001", "--version", "1", "--json").output)[
            "version"
        ]
        == 1
    )


def test_show_and_history_tell_the_departure_and_the_return(run) -> None:
    order = {
        "number": "FW-01", "business_date": "2026-11-03", "place": "服务区",
        "technicians": "li", "handheld_terminal_id": "SC-03",
    }  # fmt: skip
    run("file", "offsite_service", "--data", "-", input=json.dumps(order, ensure_ascii=False))
    run("sign", "offsite_service", "FW-01", "--as", "clerk")
    assert run("depart", "FW-01", "--odometer-out", "48120").exit_code == 0
    assert run("return", "FW-01", "--claimed", "86", "--verified", "72").exit_code == 0
    shown = run("show", "offsite_service", "FW-01").output
    assert "已出发：" in shown and "手持机 SC-03" in shown and "出发里程表 48120 km" in shown
    assert "已返回：" in shown and "申报 86 km，核实 72 km" in shown and "相差 14 km" in shown
    history = run("history", "offsite_service", "FW-01").output
    assert "外出出发" in history and "手持机 SC-03" in history
    assert "外出返回" in history and "核实 72 km" in history


def test_history_and_show_escape_control_characters_of_old_events(run, home: Path) -> None:
    # An event stored before text was checked: written as the old write path would have.
    archive = open_archive(Settings(home=home))
    doc = Document.file(
        "work_order",
        "WO-OLD",
        {"customer_name": "张三\x1b[2J\x1b]0;pwned\x07", "model": "朗逸"},
        "admin",
        archive.now(),
    )
    doc.amend({"model": "朗逸\u202eXYZ"}, "客户\x1b[31m要求", "admin", archive.now())
    archive.app.save(doc)
    archive.close()
    for command in ("history", "show"):
        output = run(command, "work_order", "WO-OLD").output
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
        assert "朗逸\\u202eXYZ" in output
    assert "客户\\x1b[31m要求" in run("history", "work_order", "WO-OLD").output
    as_json = run("history", "work_order", "WO-OLD", "--json").output
    assert not set(as_json) & {"\x1b", "\x07", "\u202e"}
    assert json.loads(as_json)[1]["reason"] == "客户\x1b[31m要求"  # the same, once read
    assert "张三\\x1b[2J\\x1b]0;pwned\\x07" in run("show", "work_order", "WO-OLD").output


def test_json_output_escapes_c1_controls_and_direction_overrides(run, home: Path) -> None:
    archive = open_archive(Settings(home=home))
    # CSI (C1) and a direction override; a lone surrogate could never be stored (UTF-8).
    fields = {"customer_name": "张三\x9b2J", "model": "朗逸\u202e"}
    archive.app.save(Document.file("work_order", "WO-OLD", fields, "admin", archive.now()))
    archive.close()
    shown = run("show", "work_order", "WO-OLD", "--json")
    assert shown.exit_code == 0, shown.output
    assert "\x9b" not in shown.output and "\\u009b" in shown.output
    assert json.loads(shown.output)["fields"] == fields
    assert "朗逸\\u202e" in run("show", "work_order", "WO-OLD").output


def test_an_error_quoting_what_was_typed_prints_it_escaped(run) -> None:
    refused = run("void", "work_order", "WO-\x1b[2J", "--reason", "x")
    assert refused.exit_code != 0
    assert "\x1b" not in refused.output


def csv_of(header: list[str], *rows: list[str]) -> bytes:
    quoted = [",".join(f'"{c}"' for c in line) for line in (header, *rows)]
    return ("\r\n".join(quoted) + "\r\n").encode()


BASE = ["WO-1", "2026-11-03", "1M8GDM9AXKP042788", "大众朗逸", "张三"]
HEADER = ["委托书号", "开单日期", "VIN（车架号）", "车型", "客户姓名"]


def test_a_csv_cell_over_131072_characters_is_refused_naming_row_and_column(
    run, tmp_path: Path
) -> None:
    path = tmp_path / "dms.csv"
    path.write_bytes(
        csv_of([*HEADER, "车辆故障描述"], [*BASE, "短"], ["WO-2", *BASE[1:], "长" * 140_000])
    )
    result = run("import", "work_order", str(path), "--json")
    assert result.exit_code == 2, result.output[:500]
    (problem,) = json.loads(result.output)["problems"]
    assert problem["line"] == 3 and problem["field"] == "fault_description"
    assert "140000" in problem["message_zh"]
    assert run("show", "work_order", "WO-1").exit_code == 1


def test_a_line_table_cell_of_nested_json_is_refused_naming_row_and_column(
    run, tmp_path: Path
) -> None:
    path = tmp_path / "dms.csv"
    nested = ("[" * 50_000 + "]" * 50_000).replace('"', '""')
    path.write_bytes(csv_of([*HEADER, "配件"], [*BASE, nested]))
    result = run("import", "work_order", str(path), "--json")
    assert result.exit_code == 2, result.output[:500]
    problems = json.loads(result.output)["problems"]
    (problem,) = [p for p in problems if p["field"] == "parts_lines"]
    assert problem["line"] == 2
    assert "嵌套太深" in problem["message_zh"]


def test_progress_is_a_line_now_and_then_when_stderr_is_no_terminal(monkeypatch) -> None:
    captured = io.StringIO()  # a pipe or a log file: no terminal
    monkeypatch.setattr(sys, "stderr", captured)
    report = progress_bar(False, {"render": "排版"})
    assert report is not None
    for done in range(0, 1001):
        report("render", done, 1000)
    report("merge", 0, 10)
    lines = captured.getvalue().splitlines()
    assert lines == ["排版 0/1000 (0%)", "排版 1000/1000 (100%)", "merge 0/10 (0%)"]
    assert "\r" not in captured.getvalue()
    assert progress_bar(True) is None  # --json: the caller wants quiet


def test_work_that_cannot_count_says_it_is_still_working(monkeypatch) -> None:
    import time

    from archive.cli._shared import still_working

    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    with still_working("正在重建 search", quiet=False, every=0.05):
        time.sleep(0.3)
    lines = captured.getvalue().splitlines()
    assert len(lines) >= 3 and all(line.startswith("正在重建 search… 已用") for line in lines)
    with still_working("x", quiet=True, every=0.01):
        time.sleep(0.05)
    assert len(captured.getvalue().splitlines()) == len(lines)
