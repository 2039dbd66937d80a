"""月服务费用通知 (report 8): every figure against the event log on a demo, the invoice's rules,
the notice (capitals), and the command line, page and API that record the invoice."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, ReadModels, open_archive
from archive.cli import app as cli
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.errors import ArchiveError, BadInput, Conflict
from archive.queries.fee_invoices import months_without_invoice
from archive.reports.fee_notice import notice_pdf
from archive.reports.model import Report, ReportSource
from archive.reports.money_words import amount_in_capitals
from archive.reports.periods import parse_period
from archive.reports.service_fee import AFTER_REQUEST, NOT_REQUESTED, RECEIVED, REQUESTED, build
from events.fees import ServiceFeeMonth
from tests import report_log
from tests.support import PASSWORD, FakeClock, event_count, file_claim, sign_and_scan_claim

# The demo's clock: 2026-12-04 11:00 in Beijing, after November's invoice was asked for.
UNTIL = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
MONTHS = ("2026-09", "2026-10", "2026-11")
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, ReadModels]]:
    settings = Settings(home=tmp_path_factory.mktemp("fees") / "home")
    archive = open_archive(settings, clock=lambda: UNTIL)
    load(archive, generate(DemoSpec(month="2026-11", months=3, work_orders=40, until=UNTIL)))
    with archive.read_models() as models:
        models.runner.catch_up()
        yield archive, models
    archive.close()


def report(demo: tuple[Archive, ReadModels], kind: str, text: str) -> Report:
    archive, models = demo
    return build(ReportSource(archive, models), parse_period(kind, text))


def log_claims(archive: Archive) -> list[Any]:
    return list(report_log.documents(archive, "warranty_claim"))


def log_invoices(archive: Archive) -> dict[str, ServiceFeeMonth]:
    return {f.month: f for f in report_log.aggregates(archive, ServiceFeeMonth)}


def month_of(doc: Any) -> str:
    return str(doc.fields["business_date"])[:7]


def fee_of(doc: Any) -> Decimal:
    return Decimal(str(doc.fields["service_fee"]))


def figures(built: Report) -> dict[str, Any]:
    return {f.key: f.value for f in built.figures}


# -- the figures against the event log ----------------------------------------------------


@pytest.mark.parametrize("month", MONTHS)
def test_a_month_lists_the_submitted_claims_and_sums_their_fees(demo, month: str) -> None:
    archive, _ = demo
    claims = [d for d in log_claims(archive) if month_of(d) == month]
    submitted = [d for d in claims if d.submission is not None]
    built = report(demo, "month", month)
    rows = built.tables[0].rows
    assert {(r["number"], r["claim_no"]) for r in rows} == {
        (d.number, d.submission["claim_no"]) for d in submitted
    }
    assert {r["number"]: r["fee"] for r in rows} == {d.number: fee_of(d) for d in submitted}
    total = sum((fee_of(d) for d in submitted), Decimal("0"))
    assert figures(built)["claims"] == len(submitted) > 0
    assert figures(built)["total_fee"] == total == built.tables[0].total["fee"]
    assert figures(built)["unsubmitted"] == len(claims) - len(submitted)
    for row in rows:
        doc = next(d for d in submitted if d.number == row["number"])
        assert row["vin"] == doc.fields["vin"]
        assert row["work_order_no"] == doc.fields["work_order_no"]
        assert row["parts"] == sum(int(p["qty"]) for p in doc.fields.get("parts") or [])


@pytest.mark.parametrize("month", MONTHS)
def test_the_invoice_row_is_the_logs(demo, month: str) -> None:
    archive, _ = demo
    built = report(demo, "month", month)
    row = built.tables[1].rows[0]
    record = log_invoices(archive).get(month)
    fee = figures(built)["total_fee"]
    if record is None:
        assert (row["requested"], row["received"], row["difference"]) == (None, None, None)
        assert row["state"] == figures(built)["invoice_state"] == NOT_REQUESTED
        return
    requested = Decimal(record.request["amount"])
    assert row["requested"] == requested
    # What the archive summed when asked, and the claims submitted since, as the log says.
    computed = Decimal(record.request["computed"])
    assert row["computed"] == computed
    late = {
        d.number
        for d in log_claims(archive)
        if month_of(d) == month and d.submission and d.submission["at"] > record.request["at"]
    }
    assert {r["number"] for r in built.tables[0].rows if r["after_request"]} == late
    assert figures(built).get("since_request") == ((fee - computed) or None)
    if record.receipt is None:
        assert row["received"] is None and row["difference"] == requested - fee
        assert row["state"] == figures(built)["invoice_state"] == REQUESTED
        assert row["requested_on"] == f"{record.request['at'].astimezone(TZ):%Y-%m-%d}"
        return
    received = Decimal(record.receipt["amount"])
    assert (row["invoice_no"], row["received"]) == (record.receipt["invoice_no"], received)
    assert row["received_on"] == record.receipt["received_on"]
    assert row["state"] == RECEIVED and figures(built)["difference"] == received - fee


def test_the_demo_has_a_short_invoice_and_a_month_waiting(demo) -> None:
    archive, models = demo
    invoices = log_invoices(archive)
    assert invoices["2026-09"].receipt["amount"] != invoices["2026-09"].request["amount"]
    assert invoices["2026-11"].request is not None and invoices["2026-11"].receipt is None
    waiting = months_without_invoice(models.fees, UNTIL.date())
    owed = {
        month_of(d)
        for d in log_claims(archive)
        if d.submission is not None and month_of(d) < "2026-12"
    }
    assert [w["month"] for w in waiting] == sorted(
        m for m in owed if m not in invoices or invoices[m].receipt is None
    )
    assert "2026-11" in [w["month"] for w in waiting]


def test_a_year_has_a_row_and_a_bar_per_month(demo) -> None:
    archive, _ = demo
    built = report(demo, "year", "2026")
    rows = built.tables[0].rows
    assert [r["month"] for r in rows] == [f"2026-{m:02d}" for m in range(1, 13)]
    submitted = [d for d in log_claims(archive) if d.submission is not None]
    for row in rows:
        mine = [d for d in submitted if month_of(d) == row["month"]]
        assert (row["claims"], row["fee"]) == (len(mine), sum((fee_of(d) for d in mine), 0))
    assert built.charts[0].kind == "bar"
    assert built.charts[0].series[0].values == [float(r["fee"]) for r in rows]
    in_year = [d for d in submitted if month_of(d).startswith("2026")]
    assert figures(built)["claims"] == len(in_year)
    assert figures(built)["total_fee"] == sum((fee_of(d) for d in in_year), 0)
    invoices = log_invoices(archive)
    waiting = {m for m in map(month_of, in_year) if m not in invoices or not invoices[m].receipt}
    assert figures(built)["months_without_invoice"] == len(waiting) > 0


def test_rebuilt_from_the_log_the_projection_is_the_same(demo) -> None:
    _, models = demo
    before = [dict(r) for r in models.fees.query("SELECT * FROM fee_claims ORDER BY doc_id")]
    invoices = [dict(r) for r in models.fees.query("SELECT * FROM fee_invoices ORDER BY month")]
    models.runner.rebuild("fees")
    assert [dict(r) for r in models.fees.query("SELECT * FROM fee_claims ORDER BY doc_id")] == (
        before
    )
    assert [dict(r) for r in models.fees.query("SELECT * FROM fee_invoices ORDER BY month")] == (
        invoices
    )


# -- the notice ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("10", "壹拾元整"),
        ("10.05", "壹拾元零伍分"),
        ("1409.50", "壹仟肆佰零玖元伍角整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("10000", "壹万元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("325020", "叁拾贰万伍仟零贰拾元整"),
        ("1000050", "壹佰万零伍拾元整"),
    ],
)
def test_amounts_in_capitals(amount: str, words: str) -> None:
    assert amount_in_capitals(Decimal(amount)) == words


def test_the_notice_is_one_page_to_the_station_head(demo, tmp_path: Path) -> None:
    archive, models = demo
    period = parse_period("month", "2026-10")
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(notice_pdf(ReportSource(archive, models), period, sign=False))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    built = report(demo, "month", "2026-10")
    total = figures(built)["total_fee"]
    assert "服务费用通知" in text and "站长" in text and archive.settings.dealer_name in text
    assert f"{total:,.2f}" in text and amount_in_capitals(total) in text.replace(" ", "")
    assert f"共 {figures(built)['claims']} 份" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "Pages:           1" in info.stdout


# -- recording the invoice -----------------------------------------------------------------


def submitted_october_claim(archive: Archive) -> None:
    file_claim(archive, "WC-0001", business_date="2026-10-20", service_fee="230.00")
    sign_and_scan_claim(archive, "WC-0001")
    commands.submit_claim(archive, "warranty_claim", "WC-0001", "FVC-1", "admin")


def refused(archive: Archive, error: type[ArchiveError], call: Any) -> ArchiveError:
    before = event_count(archive)
    with pytest.raises(error) as caught:
        call()
    assert event_count(archive) == before  # a refusal leaves the archive as it was
    return caught.value


def test_invoice_rules(team: Archive) -> None:
    submitted_october_claim(team)
    not_over = refused(
        team, Conflict, lambda: commands.request_invoice(team, "2026-11", "100", "admin")
    )
    assert not_over.code == "month_not_over" and "尚未结束" in not_over.message_zh
    early = refused(
        team,
        Conflict,
        lambda: commands.receive_invoice(team, "2026-10", "No1", "230.00", "admin"),
    )
    assert early.code == "invoice_not_requested"
    for amount in ("abc", "-5", "0", "1.234"):
        bad = refused(
            team, BadInput, lambda a=amount: commands.request_invoice(team, "2026-10", a, "admin")
        )
        assert bad.problems[0].field == "amount" and bad.problems[0].message_zh.startswith("金额")
    for month in ("2026-13", "0000-01", "2026-1"):
        refused(team, BadInput, lambda m=month: commands.request_invoice(team, m, "1", "admin"))
    forbidden = refused(
        team, ArchiveError, lambda: commands.request_invoice(team, "2026-10", "230", "wang")
    )
    assert forbidden.http_status == 403

    fees = commands.request_invoice(team, "2026-10", "200", "admin", note="电话通知")
    assert fees.request["computed"] == "230.00" and fees.request["amount"] == "200.00"
    again = refused(
        team, Conflict, lambda: commands.request_invoice(team, "2026-10", "230", "admin")
    )
    assert "更正原因" in again.message_zh
    fees = commands.request_invoice(team, "2026-10", "230", "zhou", reason="金额抄错")
    assert len(fees.requests) == 2 and fees.request["reason"] == "金额抄错"
    for day in ("2026-12-01", "2026-11-02"):  # after today; before the request
        out_of_range = refused(
            team,
            Conflict,
            lambda d=day: commands.receive_invoice(
                team, "2026-10", "No1", "230", "admin", received_on=d
            ),
        )
        assert out_of_range.code == "received_on_out_of_range"
    fees = commands.receive_invoice(team, "2026-10", "No1", "229.00", "sun")
    assert fees.receipt["received_on"] == "2026-11-03"
    with team.read_models() as models:
        models.runner.catch_up()
        built = build(ReportSource(team, models), parse_period("month", "2026-10"))
    assert figures(built)["difference"] == Decimal("-1.00")  # accepted, shown
    assert built.tables[1].rows[0]["invoice_no"] == "No1"


def submit_claim(archive: Archive, number: str, fee: str) -> None:
    order = "WO-" + number.split("-")[1]
    file_claim(archive, number, business_date="2026-10-21", work_order_no=order, service_fee=fee)
    sign_and_scan_claim(archive, number)
    commands.submit_claim(archive, "warranty_claim", number, f"FVC-{number}", "admin")


def test_a_claim_submitted_after_the_request_is_marked_and_the_change_explained(
    team: Archive, clock: FakeClock
) -> None:
    """The month's fee grows after the invoice was asked for: the claims that made it are
    marked, and a figure and a note say by how much and why (the review saw 4,701.00 asked
    for, 4,926.00 now and a 差额 nothing explained)."""
    submitted_october_claim(team)  # 230.00, submitted at the instant of the request below
    commands.request_invoice(team, "2026-10", "230", "admin")
    clock.advance(hours=1)  # the request's day: told apart by the events' instants
    submit_claim(team, "WC-0002", "120.00")
    clock.advance(days=1)
    submit_claim(team, "WC-0003", "75.50")
    with team.read_models() as models:
        models.runner.catch_up()
        built = build(ReportSource(team, models), parse_period("month", "2026-10"))
    claims = built.tables[0]
    assert claims.columns[-1].label == "备注"
    assert {r["number"]: r["after_request"] for r in claims.rows} == {
        "WC-0001": None,
        "WC-0002": AFTER_REQUEST,
        "WC-0003": AFTER_REQUEST,
    }
    got = figures(built)
    assert got["total_fee"] == Decimal("425.50")
    assert got["since_request"] == Decimal("195.50") and got["difference"] == Decimal("-195.50")
    assert built.tables[1].rows[0]["computed"] == Decimal("230.00")
    assert built.notes[-1].startswith("申请开票（2026-11-03）时系统合计 230.00 元（1 份），")
    assert "其中申请后上报 2 份 195.50 元" in built.notes[-1]


def test_the_command_line_records_and_prints_the_notice(
    team: Archive, store_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted_october_claim(team)  # the command line runs on today's clock: October is over
    monkeypatch.setenv("ARCHIVE_HOME", str(store_settings.home))
    if store_settings.database_url:
        monkeypatch.setenv("ARCHIVE_DATABASE_URL", store_settings.database_url)
    runner = CliRunner()
    asked = runner.invoke(
        cli,
        ["fee", "request", "--month", "2026-10", "--amount", "250", "--staff", "admin", "--json"],
    )
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["requested_differs"] is True
    got = runner.invoke(
        cli,
        [
            "fee",
            "receive",
            "--month",
            "2026-10",
            "--invoice-no",
            "44031000",
            "--amount",
            "250",
            "--staff",
            "zhou",
        ],
    )
    assert got.exit_code == 0 and "已登记收到发票" in got.output, got.output
    again = runner.invoke(
        cli,
        [
            "fee",
            "receive",
            "--month",
            "2026-10",
            "--invoice-no",
            "x",
            "--amount",
            "1",
            "--staff",
            "zhou",
        ],
    )
    assert again.exit_code == 1 and "更正原因" in again.output
    out = tmp_path / "notice.pdf"
    made = runner.invoke(cli, ["fee", "notice", "--month", "2026-10", "-o", str(out)])
    assert made.exit_code == 0, made.output
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_the_report_page_records_the_invoice_and_the_api_reads_it(web, team: Archive) -> None:
    submitted_october_claim(team)
    web.login("admin", PASSWORD)
    page = web.get("/reports/service-fee?month=2026-10")
    assert page.status_code == 200 and 'data-form="fee-request"' in page.text
    token = web.csrf("/reports/service-fee?month=2026-10")
    sent = web.post(
        "/fees/2026-10/request", data={"csrf_token": token, "amount": "230.00", "note": ""}
    )
    assert sent.status_code == 303
    page = web.get(sent.headers["location"])
    assert 'data-done="requested"' in page.text and 'data-form="fee-receive"' in page.text
    refused_page = web.post(
        "/fees/2026-11/request", data={"csrf_token": token, "amount": "1", "note": ""}
    )
    assert refused_page.status_code == 409 and "尚未结束" in refused_page.text
    notice = web.get("/fees/2026-10/notice.pdf")
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    state = web.get("/api/v1/fees/2026-10").json()
    assert (state["fee"], state["request"]["amount"], state["receipt"]) == (
        "230.00",
        "230.00",
        None,
    )
    waiting = web.get("/api/v1/fees/uninvoiced").json()
    assert [w["month"] for w in waiting] == ["2026-10"]


def test_the_spreadsheet_holds_the_pages_claims_and_total(demo) -> None:
    import io

    from openpyxl import load_workbook

    from archive.reports.xlsx import report_xlsx

    built = report(demo, "month", "2026-10")
    sheet = load_workbook(io.BytesIO(report_xlsx(built))).active
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    numbers = {row[0] for row in cells if row}
    assert {r["number"] for r in built.tables[0].rows} <= numbers
    total = next(row for row in cells if row and str(row[0]).startswith("合计"))
    assert Decimal(str(total[-1])) == figures(built)["total_fee"]
