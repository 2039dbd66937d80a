"""The reports' renderers (issue 13): periods, SVG charts, the spreadsheet, the PDF, the page,
the API and the ``archive report`` command, on a hand-made report with every kind of value."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from archive.bootstrap import Archive, open_archive
from archive.cli import app
from archive.config import Settings
from archive.errors import BadInput, NotFound
from archive.reports.charts import chart_svg
from archive.reports.display import report_dict, report_view
from archive.reports.model import Chart, Column, Figure, Report, Series, Table
from archive.reports.pdf import report_pdf
from archive.reports.periods import parse_period, period_title, shifted
from archive.reports.run import ask
from archive.reports.xlsx import report_xlsx
from tests.support import PASSWORD, register_team, work_order
from tests.webclient import WebClient

SVG = "{http://www.w3.org/2000/svg}"


def sample() -> Report:
    """A report with a figure of every kind, a table of every kind, an empty table and charts
    with gaps."""
    kinds = ("text", "int", "money", "percent", "score", "date", "datetime", "days")
    values = ("甲", 1234, Decimal("98765.40"), 0.867, 4.625, date(2026, 11, 3),
              datetime(2026, 11, 3, 9, 30), 2.5)  # fmt: skip
    columns = [Column(k, f"列{k}", k) for k in kinds]  # type: ignore[arg-type]
    return Report(
        name="sample",
        title="样例报表",
        period=parse_period("month", "2026-11"),
        dealer="示例汽车销售服务有限公司",
        generated_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        figures=[Figure(k, f"指标{k}", v, k) for k, v in zip(kinds, values, strict=True)],  # type: ignore[arg-type]
        charts=[
            Chart(
                "trend",
                "满意度趋势",
                "line",
                ["9月", "10月", "11月", "12月"],
                [Series("总体", [4.5, None, 4.8, 4.9]), Series("接通率", [80, 90, None, 85])],
                "分",
            ),
            Chart(
                "per_day",
                "每日委托书数",
                "bar",
                ["1日", "2日", "3日"],
                [Series("委托书", [3, None, 5])],
                "份",
            ),
        ],
        tables=[
            Table(
                "all",
                "全部类型",
                columns,
                [dict(zip(kinds, values, strict=True)), {"text": "乙", "money": "0.5"}],
                total={"text": "合计", "int": 1234, "money": Decimal("98765.90")},
            ),
            Table("nothing", "空表", [Column("x", "某列")], empty="本期没有"),
        ],
        notes=["按开单日期计"],
    )


# -- periods -------------------------------------------------------------------------------------


def test_periods_parse_and_read_in_chinese() -> None:
    week = parse_period("week", "2026-W48")
    assert (week.start, week.end, week.label) == (
        date(2026, 11, 23),
        date(2026, 11, 30),
        "2026-W48",
    )
    assert period_title(week) == "2026年第48周（11月23日至11月29日）"
    assert period_title(parse_period("month", "2026-11")) == "2026年11月"
    assert period_title(parse_period("day", "2026-11-03")) == "2026年11月3日"
    assert parse_period("week", "2026-W53").end == date(2027, 1, 4)  # 2026 has 53 ISO weeks
    assert shifted(parse_period("month", "2026-12"), 1).label == "2027-01"
    assert shifted(week, -48).label == "2025-W52"
    assert parse_period("year", "2026").end == date(2027, 1, 1)
    for kind, text, said in (
        ("month", "2026-13", "月份应在 1 到 12 之间"),
        ("week", "2026-W54", "2026 年只有 53 周"),
        ("week", "2025-W53", "2025 年只有 52 周"),
        ("day", "2026-02-30", "没有这一天"),
        ("day", "11/3", "请写成 2026-11-03"),
    ):
        with pytest.raises(BadInput) as caught:
            parse_period(kind, text)
        assert said in caught.value.message_zh and caught.value.exit_code == 2


def test_a_period_kind_the_report_is_not_made_for_is_refused() -> None:
    with pytest.raises(BadInput) as caught:
        ask("daily", {"week": "2026-W48"}, date(2026, 12, 3))
    assert caught.value.message_zh.startswith("日报不按周出")
    with pytest.raises(NotFound):
        ask("no-such", {}, date(2026, 12, 3))
    # None before 1990 (the fee commands' first year) and none that has not begun: the same
    # check for the command line, the page and the API, which all ask here.
    for asked, said in (
        ({"year": "1900"}, "报表最早从 1990 年起"),
        ({"month": "1989-12"}, "报表最早从 1990 年起"),
        ({"month": "2027-05"}, "2027年5月还没到（今天是 2026-12-03）"),
        ({"year": "2027"}, "2027年还没到"),
    ):
        with pytest.raises(BadInput) as caught:
            ask("satisfaction", asked, date(2026, 12, 3))
        assert said in caught.value.message_zh and caught.value.code == "bad_period", asked
        assert caught.value.problems[0].field == next(iter(asked))
    with pytest.raises(BadInput, match="starts after 2026-12-03"):
        ask("daily", {"day": "2026-12-04"}, date(2026, 12, 3))
    assert ask("daily", {"day": "2026-12-03"}, date(2026, 12, 3)).period.label == "2026-12-03"
    assert ask("satisfaction", {"month": "2026-12"}, date(2026, 12, 3)).period.label == "2026-12"
    assert ask("satisfaction", {"year": "1990"}, date(2026, 12, 3)).period.label == "1990"
    # None asked: the report's default, today for a daily report
    assert ask("daily", {}, date(2026, 12, 3)).period.label == "2026-12-03"
    assert ask("first-service", {}, date(2026, 12, 3)).period.label == "2026-11"


# -- charts, spreadsheet, JSON -------------------------------------------------------------------


def test_charts_are_well_formed_svg_with_gaps_for_missing_values() -> None:
    line, bar = (ET.fromstring(chart_svg(c)) for c in sample().charts)
    assert line.tag == f"{SVG}svg" and bar.tag == f"{SVG}svg"
    # 总体: 9月 alone (a gap after it), then 11月-12月; 接通率: 9月-10月, then 12月 alone.
    assert len(line.findall(f"{SVG}polyline")) == 2
    assert len(line.findall(f"{SVG}circle")) == 6
    assert len(bar.findall(f"{SVG}rect")) == 2 + 1  # two bars and the legend's swatch
    texts = "".join(t.text or "" for t in line.iter(f"{SVG}text"))
    assert "满意度趋势" in texts and "总体" in texts and "（分）" in texts


def test_the_spreadsheet_holds_the_reports_numbers_typed() -> None:
    report = sample()
    data = report_xlsx(report)
    assert report_xlsx(report) == data  # deterministic
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "样例报表" and rows[1][1] == "2026年11月"
    labels, values = rows[4], rows[5]
    assert labels[:3] == ["指标text", "指标int", "指标money"]
    assert values[:8] == ["甲", 1234, 98765.4, 0.867, 4.625, datetime(2026, 11, 3),
                          datetime(2026, 11, 3, 9, 30), 2.5]  # fmt: skip
    formats = [sheet.cell(row=6, column=i).number_format for i in range(2, 9)]
    assert formats == ["#,##0", "#,##0.00", "0.0%", "0.00", "yyyy-mm-dd", "yyyy-mm-dd hh:mm", "0.0"]
    header = rows.index(["列text", "列int", "列money", "列percent", "列score", "列date",
                         "列datetime", "列days"])  # fmt: skip
    assert sheet.freeze_panes == f"A{header + 2}"  # the first table's header stays in view
    assert rows[header + 2][:3] == ["乙", None, 0.5]
    assert rows[header + 3][:3] == ["合计", 1234, 98765.9]
    assert rows[rows.index(["某列"] + [None] * 7) + 1][:2] == ["本期没有", None]
    chart = rows.index(["类别", "总体", "接通率"] + [None] * 5)
    assert rows[chart + 1][:3] == ["9月", 4.5, 80] and rows[chart + 2][:3] == ["10月", None, 90]


def test_json_keeps_money_exact_and_dates_as_text() -> None:
    data = report_dict(sample())
    json.dumps(data)  # plain data only
    figures = {f["key"]: f["value"] for f in data["figures"]}
    assert figures["money"] == "98765.40" and figures["date"] == "2026-11-03"
    assert data["tables"][0]["total"]["money"] == "98765.90"
    assert data["period"] == {"kind": "month", "label": "2026-11", "start": "2026-11-01",
                              "end": "2026-11-30", "title": "2026年11月"}  # fmt: skip


# -- PDF -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    archive = open_archive(Settings(home=tmp_path_factory.mktemp("reports") / "home"))
    yield archive
    archive.close()


def test_the_pdf_shows_title_figures_and_tables_and_is_signed(plain_archive: Archive) -> None:
    pdf = report_pdf(sample(), plain_archive)
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    compact = "".join(text.split())
    for shown in ("样例报表", "2026年11月", "98,765.40", "86.7%", "4.63", "2.5", "本期没有",
                  "满意度趋势", "第1页/共2页", "第2页/共2页"):  # fmt: skip
        assert shown in compact, shown
    assert reader.get_fields() and "ArchiveSignature" in reader.get_fields()
    xmp = reader.trailer["/Root"]["/Metadata"].get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp


def complaints_like(rows: int) -> Report:
    """A report with an 11-column table whose two text columns hold Chinese sentences, beside
    one-line cells, and a column of two numbers joined by " / "."""
    keys = ("day", "source", "number", "customer", "order", "department", "description",
            "action", "result", "days", "state")  # fmt: skip
    row = {
        "day": date(2026, 11, 19), "source": "投诉", "number": "HF2611-0109 / KS2611-001",
        "customer": "宋晓东", "order": "WO2611110004", "department": "服务前台",
        "description": "客户反映保养后仪表保养提示未归零，要求回店处理",
        "action": "电话指导客户操作未成功，约客户顺路回店复位", "result": "已复位",
        "days": 2, "state": "已关闭，待服务经理签字",
    }  # fmt: skip
    columns = [Column(k, f"列{k}", "days" if k == "days" else "text") for k in keys]
    table = Table("problems", "投诉及回访问题", columns, [row] * rows)
    month = parse_period("month", "2026-11")
    return Report("problems", "问题表", month, "示例", sample().generated_at, tables=[table])


def test_sentence_columns_keep_a_width_and_wide_tables_print_landscape(
    plain_archive: Archive,
) -> None:
    view = report_view(complaints_like(3))
    long = {c["key"] for c in view["tables"][0]["columns"] if c["long"]}
    assert long == {"description", "action"}  # not the numbers joined by " / "
    short = view["tables"][0]["rows"][0]["cells"]
    assert [c["nowrap"] for c in short][7:9] == [False, True]  # a sentence column wraps
    assert view["landscape"] and not report_view(sample())["landscape"]  # 8 columns: upright
    assert not report_view(complaints_like(0))["landscape"]  # an empty table prints no columns

    reader = PdfReader(io.BytesIO(report_pdf(complaints_like(3), plain_archive, sign=False)))
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # A4 across
    # The sentences wrap a few lines at most, not after every character or two (before: 4
    # characters a line on the page, 2-3 in the PDF).
    sentence = "客户反映保养后仪表保养提示未归零，要求回店处理"
    words = reader.pages[0].extract_text().split()
    assert max(len(w) for w in words if w in sentence) >= 10, words


# -- page, API, command line on a small archive --------------------------------------------------


def file_day(archive: Archive) -> None:
    from archive import commands

    commands.file_document(archive, "work_order", work_order("WO-1"), "admin")
    draft = commands.draft_daily_report(archive, date(2026, 11, 3))
    commands.file_document(archive, "daily_report", draft, "admin")


def test_the_report_pages_and_downloads_in_chinese(web: WebClient) -> None:
    file_day(web.app.state.archive)
    assert web.login("admin", PASSWORD).status_code == 303
    index = web.get("/reports")
    assert index.status_code == 200 and "首保登记表" in index.text
    assert 'href="/reports/daily?day=2026-11-03"' in index.text  # today, on the test's clock
    assert '<a href="/reports">报表</a>' in index.text  # in the menu
    page = web.get("/reports/daily?day=2026-11-03")
    assert page.status_code == 200
    for said in ("日报", "2026年11月3日", "DR20261103", "WO-1", "570.50", "下载 PDF", "下载 Excel"):
        assert said in page.text, said
    assert 'href="/reports/daily?day=2026-11-02"' in page.text  # the day before
    month = web.get("/reports/daily?month=2026-11")
    assert month.status_code == 200 and "<svg" in month.text and "每日委托书数" in month.text
    xlsx = web.get("/reports/daily/download?format=xlsx&day=2026-11-03")
    assert (
        xlsx.status_code == 200 and "daily-2026-11-03.xlsx" in xlsx.headers["content-disposition"]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert "DR20261103" in [c for r in sheet.iter_rows(values_only=True) for c in r]
    bad = web.get("/reports/daily?week=2026-W48")
    assert bad.status_code == 422 and "日报不按周出" in bad.text
    api = web.get("/api/v1/reports/daily?day=2026-11-03")
    assert api.status_code == 200
    figures = {f["key"]: f["value"] for f in api.json()["figures"]}
    assert figures["revenue"] == "570.50" and figures["work_orders"] == 1
    pdf = web.get("/api/v1/reports/daily?day=2026-11-03&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    wrong = web.get("/api/v1/reports/daily?month=2026-13")
    assert wrong.status_code == 422 and wrong.json()["error"] == "bad_period"
    # A wrong format is told as the page tells it, on the field "format", before any building.
    docx = web.get("/api/v1/reports/daily?day=2026-11-03&format=docx")
    assert docx.status_code == 422, docx.text
    body = docx.json()
    assert body["error"] == "bad_format"
    assert body["message_zh"] == "没有“docx”格式；可选：json、pdf、xlsx"
    assert [(p["field"], p["message_zh"]) for p in body["problems"]] == [
        ("format", body["message_zh"])
    ]
    future = web.get("/api/v1/reports/daily?month=2026-12")  # the test's clock: 3 November
    assert future.status_code == 422 and "2026年12月还没到" in future.json()["message_zh"]
    schema = web.get("/openapi.json").json()
    params = schema["paths"]["/api/v1/reports/{name}"]["get"]["parameters"]
    assert next(p for p in params if p["name"] == "format")["schema"]["enum"] == [
        "json",
        "pdf",
        "xlsx",
    ]


def test_the_command_writes_json_xlsx_and_pdf_and_refuses_bad_periods(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = open_archive(Settings(home=home))
    try:
        register_team(archive)
        file_day(archive)
    finally:
        archive.close()
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(home)}
    shown = runner.invoke(app, ["report", "daily", "--day", "2026-11-03", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["tables"][1]["rows"][0]["work_order_no"] == "WO-1"
    for name in ("x.xlsx", "x.pdf"):
        made = runner.invoke(
            app, ["report", "daily", "--day", "2026-11-03", "-o", str(tmp_path / name)], env=env
        )
        assert made.exit_code == 0, made.output
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF")
    openpyxl.load_workbook(tmp_path / "x.xlsx")
    for args, said in (
        (["--month", "2026-13"], "月份应在 1 到 12 之间"),
        (["--week", "2026-W54"], "日报不按周出"),
        (["--day", "2026-11-03", "--month", "2026-11"], "只能指定一个时间段"),
        (["--month", "2099-01"], "2099年1月还没到"),
        (["--month", "1900-01"], "报表最早从 1990 年起"),
    ):
        out = tmp_path / "bad.pdf"
        refused = runner.invoke(app, ["report", "daily", *args, "-o", str(out)], env=env)
        assert refused.exit_code == 2 and said in refused.output, refused.output
        assert not out.exists()
    weeks = runner.invoke(app, ["report", "weekly-callbacks", "--week", "2026-W54"], env=env)
    assert weeks.exit_code == 2 and "2026 年只有 53 周" in weeks.output
    csv = runner.invoke(app, ["report", "daily", "-o", str(tmp_path / "x.csv")], env=env)
    assert csv.exit_code == 2 and ".pdf 或 .xlsx" in csv.output
    assert not (tmp_path / "x.csv").exists()
