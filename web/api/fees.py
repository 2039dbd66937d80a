"""The month's service-fee invoice (服务费用发票): where it stands, asked for, received, and the
notice to the station head as a PDF; every change through ``archive.commands``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import Field

from archive import commands
from archive.bootstrap import Archive
from archive.commands.fees import MONTH_PATTERN, fee_month, month_fee, parse_month
from archive.queries.documents import today
from archive.queries.fee_invoices import invoice_dict, months_without_invoice
from archive.reports.fee_notice import month_notice, notice_headers
from web.api.deps import ArchiveDep, ReadModelsDep
from web.api.models import Body
from web.api.routing import ApiRoute
from web.api.schema import MAYBE_BLANK_LINE, ONE_LINE, REASON, says
from web.auth import ApiUser

router = APIRouter(route_class=ApiRoute, tags=["fees 服务费用"])

MonthPath = Annotated[str, Path(pattern=f"^{MONTH_PATTERN}$", description="YYYY-MM")]
# Yuan, more than zero, at most two decimals (the write path's Money; a schema-valid amount is
# never refused as invalid).
AMOUNT = {"pattern": r"^([1-9]\d{0,6}(\.\d{1,2})?|0\.([1-9]\d?|0[1-9]))$"}


class InvoiceRequest(Body):
    amount: str = Field(
        max_length=20, description="Yuan asked for, e.g. 1740.00.", **says(**AMOUNT)
    )
    note: str = Field("", max_length=200, **says(**MAYBE_BLANK_LINE))
    reason: str | None = Field(
        None, max_length=500, description="Corrects an earlier request.", **says(**REASON)
    )


class InvoiceReceipt(Body):
    invoice_no: str = Field(max_length=40, **says(**ONE_LINE))
    amount: str = Field(max_length=20, description="Yuan on the invoice.", **says(**AMOUNT))
    received_on: str | None = Field(
        None,
        max_length=10,
        description="YYYY-MM-DD, between the request and today; default today.",
        **says(format="date", pattern=r"^(199\d|20\d\d|2100)-\d{2}-\d{2}$"),
    )
    reason: str | None = Field(
        None, max_length=500, description="Corrects an earlier receipt.", **says(**REASON)
    )


def _state(archive: Archive, month: str) -> dict[str, Any]:
    month = parse_month(month)
    fee = month_fee(archive, month)
    record = fee_month(archive, month)
    blank = {"month": month, "request": None, "receipt": None, "requests": 0, "receipts": 0}
    return {
        **(invoice_dict(record) if record is not None else blank),
        "claims": fee.claims,
        "fee": f"{fee.fee:.2f}",
    }


@router.get("/fees/uninvoiced", summary="未收到发票的月份 / months over without an invoice")
def uninvoiced(archive: ArchiveDep, models: ReadModelsDep) -> list[dict[str, Any]]:
    models.runner.wait_for(timeout=5)
    return months_without_invoice(models.fees, today(archive))


@router.get("/fees/{month}", summary="一个月的服务费用与发票 / the month's fee and invoice")
def fee_state(month: MonthPath, archive: ArchiveDep) -> dict[str, Any]:
    return _state(archive, month)


@router.post("/fees/{month}/invoice-request", summary="登记申请开票 / invoice requested")
def request_invoice(
    month: MonthPath, body: InvoiceRequest, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    commands.request_invoice(
        archive, month, body.amount, user.username, note=body.note, reason=body.reason
    )
    return _state(archive, month)


@router.post("/fees/{month}/invoice-receipt", summary="登记收到发票 / invoice received")
def receive_invoice(
    month: MonthPath, body: InvoiceReceipt, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    commands.receive_invoice(
        archive,
        month,
        body.invoice_no,
        body.amount,
        user.username,
        received_on=body.received_on,
        reason=body.reason,
    )
    return _state(archive, month)


@router.get(
    "/fees/{month}/notice",
    summary="服务费用通知 PDF / the notice to the station head",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def notice(month: MonthPath, archive: ArchiveDep, models: ReadModelsDep) -> Response:
    return Response(month_notice(archive, models, month), headers=notice_headers(month))
