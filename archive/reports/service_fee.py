"""月服务费用通知 (report 8): the month's submitted warranty claims and their service fees, the
month's total, and where its invoice stands; for a year, one row per month and a bar chart.

What counts is said once in ``projections.fees`` (the return binding's fee summary uses the
same rule): live claims of the month by business date, submitted to the service centre now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from archive.reports.model import (
    Chart,
    Column,
    Figure,
    Period,
    Report,
    ReportSource,
    ReportSpec,
    Series,
    Table,
)
from archive.reports.periods import month_period, period_title, shifted
from events.fees import ServiceFeeMonth
from projections.fees import ServiceFees, to_yuan

TITLE = "月服务费用通知"
NOT_REQUESTED, REQUESTED, RECEIVED = "未申请开票", "已申请，待收票", "已收票"
NO_FEE = "无服务费用"  # no submitted claim that month: nothing to invoice
AFTER_REQUEST = "申请开票后上报"  # in the month's fee now, not in the amount asked for

CLAIM_COLUMNS = (
    Column("number", "索赔单号"),
    Column("claim_no", "厂家索赔号"),
    Column("work_order_no", "维修委托书号"),
    Column("vin", "VIN（车架号）"),
    Column("business_date", "维修日期", "date"),
    Column("submitted_on", "上报日期", "date"),
    Column("labour_hours", "工时"),
    Column("parts", "更换配件（件）", "int"),
    Column("fee", "服务费用（元）", "money"),
)
# Shown only when a claim of the month was submitted after its invoice was asked for.
AFTER_REQUEST_COLUMN = Column("after_request", "备注")
INVOICE_COLUMNS = (
    Column("month", "月份"),
    Column("claims", "已上报索赔单（份）", "int"),
    Column("fee", "服务费用（元）", "money"),
    Column("state", "发票状态"),
    Column("requested_on", "申请开票日期", "date"),
    Column("requested", "申请金额（元）", "money"),
    Column("computed", "申请时系统合计（元）", "money"),
    Column("received_on", "收票日期", "date"),
    Column("invoice_no", "发票号码"),
    Column("received", "发票金额（元）", "money"),
    Column("difference", "差额（元）", "money"),
)
NOTES = (
    "只计已上报服务中心的三包索赔单（有厂家索赔号），按维修日期归月；作废的和未上报的不计入，"
    "与退回服务中心卷的服务费用汇总同一算法。",
    "差额：发票金额（未收票时为申请金额）减去本系统现在合计的服务费用；不为零时请与服务中心核对。",
    "申请时系统合计：申请开票那一刻本系统合计的服务费用。此后上报的索赔单在索赔单表的备注中标“"
    + AFTER_REQUEST
    + "”，计入现在的合计但不在申请金额内；此后修改、作废或撤回上报的索赔单也会使现在的合计与"
    "申请时不同。",
)


def fees_model(source: ReportSource) -> ServiceFees:
    return source.models.fees


def invoice_row(month: str, claims: int, fee: Decimal, row: Any | None) -> dict[str, Any]:
    """One month's fee and its invoice as a table row (``row``: the projection's, or None)."""
    requested = to_yuan(row["requested_fen"]) if row is not None else None
    computed = to_yuan(row["computed_fen"]) if row is not None else None
    received = to_yuan(row["received_fen"]) if row is not None else None
    invoiced = received if received is not None else requested
    if received is not None:
        state = RECEIVED
    elif requested is not None:
        state = REQUESTED
    else:
        state = NOT_REQUESTED if fee > 0 else NO_FEE
    return {
        "month": month,
        "claims": claims,
        "fee": fee,
        "state": state,
        "requested_on": row["requested_on"] if row is not None else None,
        "requested": requested,
        "computed": computed,
        "received_on": row["received_on"] if row is not None else None,
        "invoice_no": row["invoice_no"] if row is not None else None,
        "received": received,
        "difference": None if invoiced is None else invoiced - fee,
    }


def _claim_row(row: Any, after_request: bool) -> dict[str, Any]:
    return {
        "number": row["number"],
        "claim_no": row["claim_no"],
        "work_order_no": row["work_order_no"],
        "vin": row["vin"],
        "business_date": row["business_date"],
        "submitted_on": row["submitted_on"],
        "labour_hours": row["labour_hours"],
        "parts": row["parts"],
        "fee": to_yuan(row["fee_fen"]),
        "after_request": AFTER_REQUEST if after_request else None,
    }


def submitted_after_request(
    source: ReportSource, claims: list[Any], invoice: Any | None
) -> set[str]:
    """The numbers of ``claims`` (the projection's rows) submitted after the month's invoice
    was (last) requested. A claim submitted on a later day is; one submitted on the request's
    day is compared by the instants of the two events (a few claims a month: their aggregates
    are read from the log only then)."""
    if invoice is None or invoice["requested_on"] is None:
        return set()
    day = invoice["requested_on"]
    later = {c["number"] for c in claims if c["submitted_on"] > day}
    same_day = [c for c in claims if c["submitted_on"] == day]
    if same_day:
        repository = source.archive.app.repository
        fees: ServiceFeeMonth = repository.get(ServiceFeeMonth.create_id(invoice["month"]))
        asked_at = fees.request["at"]
        for claim in same_day:
            submission = repository.get(UUID(claim["doc_id"])).submission
            if submission is not None and submission["at"] > asked_at:
                later.add(claim["number"])
    return later


def _month(source: ReportSource, period: Period) -> Report:
    fees = fees_model(source)
    start, end = period.start.isoformat(), period.end.isoformat()
    found = fees.submitted_claims(start, end)
    requested = fees.invoices(period.label, period.label).get(period.label)
    late = submitted_after_request(source, found, requested)
    claims = [_claim_row(r, r["number"] in late) for r in found]
    total = sum((c["fee"] for c in claims), Decimal("0.00"))
    invoice = invoice_row(period.label, len(claims), total, requested)
    report = _report(source, period)
    report.figures = [
        Figure("claims", "已上报索赔单", len(claims), "int"),
        Figure("total_fee", "服务费用合计（元）", total, "money"),
        Figure("unsubmitted", "未上报（不计入）", fees.unsubmitted_count(start, end), "int"),
        Figure("invoice_state", "发票状态", invoice["state"], "text"),
        Figure("difference", "差额（元）", invoice["difference"], "money"),
    ]
    report.tables = [
        Table(
            "claims",
            f"{period_title(period)}已上报的三包索赔单",
            [*CLAIM_COLUMNS, AFTER_REQUEST_COLUMN] if late else list(CLAIM_COLUMNS),
            claims,
            total={"number": f"合计（{len(claims)} 份）", "fee": total},
        ),
        Table("invoice", "服务费发票", INVOICE_COLUMNS, [invoice]),
    ]
    if invoice["computed"] is not None and invoice["computed"] != total:
        report.figures.insert(
            2, Figure("since_request", "申请开票后变动（元）", total - invoice["computed"], "money")
        )
        report.notes.append(_since_request_note(invoice, requested, claims))
    return report


def _since_request_note(
    invoice: dict[str, Any], requested: Any, claims: list[dict[str, Any]]
) -> str:
    """What made the month's fee differ from what the archive summed when the invoice was
    asked for: the claims submitted since, and the rest (amended, voided, withdrawn)."""
    late = [c for c in claims if c["after_request"]]
    late_fee = sum((c["fee"] for c in late), Decimal("0.00"))
    change = invoice["fee"] - invoice["computed"]
    said = (
        f"申请开票（{invoice['requested_on']}）时系统合计 {invoice['computed']:,.2f} 元"
        f"（{requested['computed_claims']} 份），现为 {invoice['fee']:,.2f} 元"
        f"（{invoice['claims']} 份），变动 {change:+,.2f} 元"
    )
    if late:
        said += f"：其中申请后上报 {len(late)} 份 {late_fee:,.2f} 元（表中标“{AFTER_REQUEST}”）"
    rest = change - late_fee
    if rest:
        said += (
            f"{'，' if late else '：'}另有 {rest:+,.2f} 元来自申请后修改、作废或撤回上报的索赔单"
        )
    return said + "。请与服务中心核对，必要时更正申请金额。"


def _year(source: ReportSource, period: Period) -> Report:
    fees = fees_model(source)
    by_month = fees.month_fees(period.start.isoformat(), period.end.isoformat())
    months = [shifted(month_period(period.start.year, period.start.month), i) for i in range(12)]
    months = [m for m in months if m.start < period.end]
    invoices = fees.invoices(months[0].label, months[-1].label)
    rows = []
    for month in months:
        found = by_month.get(month.label)
        claims, fee = (found.claims, found.fee) if found else (0, Decimal("0.00"))
        rows.append(invoice_row(month.label, claims, fee, invoices.get(month.label)))
    total_claims = sum(r["claims"] for r in rows)
    total_fee = sum((r["fee"] for r in rows), Decimal("0.00"))
    without = [r["month"] for r in rows if r["fee"] > 0 and r["state"] != RECEIVED]
    report = _report(source, period)
    report.figures = [
        Figure("claims", "已上报索赔单", total_claims, "int"),
        Figure("total_fee", "服务费用合计（元）", total_fee, "money"),
        Figure("months_without_invoice", "未收到发票的月份", len(without), "int"),
    ]
    report.charts = [
        Chart(
            "fees_by_month",
            "每月服务费用（元）",
            "bar",
            [r["month"][5:] + "月" for r in rows],
            [Series("服务费用", [float(r["fee"]) for r in rows])],
            unit="元",
        )
    ]
    report.tables = [
        Table(
            "months",
            f"{period_title(period)}各月服务费用与发票",
            INVOICE_COLUMNS,
            rows,
            total={"month": "合计", "claims": total_claims, "fee": total_fee},
        )
    ]
    if without:
        report.notes.append("未收到发票的月份：" + "、".join(without))
    return report


def _report(source: ReportSource, period: Period) -> Report:
    return source.report(
        SPEC,
        period,
        notes=list(NOTES),
    )


def build(source: ReportSource, period: Period) -> Report:
    return _year(source, period) if period.kind == "year" else _month(source, period)


SPEC = ReportSpec(
    name="service-fee",
    title=TITLE,
    periods=("month", "year"),
    build=build,
    due="month_3rd",
    summary="每月已上报索赔单的服务费用、致站长的费用通知和发票登记",
    page_extra="_fee_invoice.html",
)
