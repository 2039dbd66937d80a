"""The daily report drafted from the day's work orders and checked against them when filed
(issue 12, item 5)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.cli import app
from archive.config import Settings
from archive.errors import Conflict, ValidationFailed
from tests.support import OTHER_VIN, event_count, register_team, work_order

DAY = date(2026, 11, 3)


def file_orders(archive: Archive) -> None:
    """Two orders on the 3rd (570.50 and 80.00 yuan), one voided, one on the 4th."""
    commands.file_document(archive, "work_order", work_order("WO-1"), "admin")
    cheap = work_order(
        "WO-2",
        vin=OTHER_VIN,
        plate="粤BD12345",
        repair_type="保养",
        labour_lines=[{"description": "小保养", "amount": "80"}],
        parts_lines=None,
    )
    commands.file_document(archive, "work_order", cheap, "admin")
    commands.file_document(archive, "work_order", work_order("WO-3"), "admin")
    commands.void_document(archive, "work_order", "WO-3", "重复开单", "admin")
    commands.file_document(
        archive, "work_order", work_order("WO-4", business_date="2026-11-04"), "admin"
    )


def test_the_draft_lists_the_days_live_orders_with_their_totals(team: Archive) -> None:
    file_orders(team)
    draft = commands.draft_daily_report(team, DAY)
    first = {"work_order_no": "WO-1", "plate": "京A12345", "repair_type": "repair"}
    second = {"work_order_no": "WO-2", "plate": "粤BD12345", "repair_type": "maintenance"}
    assert draft == {
        "number": "DR20261103",
        "business_date": "2026-11-03",
        "lines": [{**first, "amount": "570.50"}, {**second, "amount": "80.00"}],
        "work_order_count": 2,
        "revenue": "650.50",
    }
    doc = commands.file_document(team, "daily_report", draft, "admin")
    assert doc.links["lines"]["state"] == "ok" and doc.links["lines"]["detail"] == "2 张委托书"


def test_lines_and_totals_that_disagree_with_the_orders_are_refused(team: Archive) -> None:
    file_orders(team)
    report = commands.draft_daily_report(team, DAY)
    report["lines"][0]["amount"] = "999"
    report["lines"][1]["plate"] = "京A12345"
    report["lines"].append({"work_order_no": "WO-404", "amount": "10"})
    report["lines"].append({"work_order_no": "WO-4", "amount": "570.50"})
    report["revenue"] = "99999"
    before = event_count(team)
    with pytest.raises(ValidationFailed) as caught:
        commands.file_document(team, "daily_report", report, "admin")
    assert event_count(team) == before
    found = {(p.field, p.line) for p in caught.value.problems}
    assert found == {
        ("lines.1.amount", 1),
        ("lines.2.plate", 2),
        ("lines.3.work_order_no", 3),
        ("lines.4.work_order_no", 4),
        ("work_order_count", None),
        ("revenue", None),
    }
    messages = " ".join(p.message_zh for p in caught.value.problems)
    assert "第 1 行：金额 999.00 元与委托书 WO-1 的工时加配件合计 570.50 元不一致" in messages
    assert "第 4 行：委托书 WO-4 的开单日期是 2026-11-04" in messages
    assert "产值 99999.00 元与明细金额合计" in messages


def test_a_report_from_before_the_system_is_filed_with_its_reason(team: Archive) -> None:
    old = {
        "number": "DR20261001",
        "business_date": "2026-10-01",
        "lines": [{"work_order_no": "P-0001", "amount": "300"}],
        "work_order_count": 1,
        "revenue": "300",
    }
    doc = commands.file_document(
        team, "daily_report", old, "admin", unlinked_reason="系统启用前的纸质日报"
    )
    link = doc.links["lines"]
    assert link["state"] == "unlinked" and "P-0001" in link["detail"]


def test_draft_and_file_the_report_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = open_archive(Settings(home=home))
    try:
        register_team(archive)
        file_orders(archive)
    finally:
        archive.close()
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_STAFF": "admin"}
    drafted = runner.invoke(app, ["draft", "daily-report", "--day", "2026-11-03"], env=env)
    assert drafted.exit_code == 0, drafted.output
    assert json.loads(drafted.stdout)["revenue"] == "650.50"
    filed = runner.invoke(app, ["draft", "daily-report", "--day", "2026-11-03", "--file"], env=env)
    assert filed.exit_code == 0, filed.output
    assert "已存档：日报 DR20261103" in filed.output
    bad = runner.invoke(app, ["draft", "daily-report", "--day", "11/3"], env=env)
    assert bad.exit_code == 2 and "请写成 2026-11-03" in bad.output


def test_a_report_covers_its_day_once_and_nothing_after_today(team: Archive) -> None:
    """Every order of the day filed by now, each line with its amount, one live report a day,
    no day to come; an order a live report lists is voided only after the report."""
    file_orders(team)
    report = commands.draft_daily_report(team, DAY)
    first = {k: v for k, v in report["lines"][0].items() if k != "amount"}
    partial = {**report, "lines": [first], "work_order_count": 1, "revenue": "570.50"}
    before = event_count(team)
    with pytest.raises(ValidationFailed) as caught:
        commands.file_document(team, "daily_report", partial, "admin")
    messages = {p.field: p.message_zh for p in caught.value.problems}
    assert messages["lines"] == "漏报委托书 WO-2（共 1 份）；请按系统草稿补上"
    assert messages["lines.1.amount"].startswith("第 1 行：请填写金额")
    later = commands.draft_daily_report(team, date(2099, 1, 1))
    with pytest.raises(ValidationFailed) as caught:
        commands.file_document(team, "daily_report", later, "admin")
    assert [p.field for p in caught.value.problems] == ["business_date"]
    assert "还没到" in caught.value.problems[0].message_zh
    assert event_count(team) == before
    commands.file_document(team, "daily_report", report, "admin")
    before = event_count(team)
    with pytest.raises(Conflict) as conflict:
        commands.file_document(team, "daily_report", {**report, "number": "DR-2"}, "admin")
    assert "2026-11-03 已有日报 DR20261103" in conflict.value.message_zh
    with pytest.raises(Conflict) as conflict:
        commands.void_document(team, "work_order", "WO-2", "重复开单", "admin")
    assert "先作废或更正以下单据：日报 DR20261103" in conflict.value.message_zh
    assert event_count(team) == before
    commands.void_document(team, "daily_report", "DR20261103", "重报", "admin")
    commands.void_document(team, "work_order", "WO-2", "重复开单", "admin")
    redone = commands.draft_daily_report(team, DAY)
    commands.file_document(team, "daily_report", {**redone, "number": "DR-2"}, "admin")
