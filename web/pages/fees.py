"""The service-fee report's forms: the invoice asked for and received (recorded through
``archive.commands``; a refusal is shown by the app's guards and changes nothing), and the
notice to the station head as a PDF."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from archive import commands
from archive.reports.fee_notice import month_notice, notice_headers
from web.auth import PageUser, archive_of
from web.pages.common import fresh, models_of

router = APIRouter()


def _back(month: str, done: str) -> Response:
    query = urlencode({"month": month, "done": done})
    return RedirectResponse(f"/reports/service-fee?{query}", status_code=303)


@router.post("/fees/{month}/request")
def request_invoice(
    request: Request,
    month: str,
    user: PageUser,
    amount: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    commands.request_invoice(
        archive_of(request), month, amount, user.username, note=note, reason=reason or None
    )
    fresh(request)
    return _back(month, "requested")


@router.post("/fees/{month}/receive")
def receive_invoice(
    request: Request,
    month: str,
    user: PageUser,
    invoice_no: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    received_on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    commands.receive_invoice(
        archive_of(request),
        month,
        invoice_no,
        amount,
        user.username,
        received_on=received_on or None,
        reason=reason or None,
    )
    fresh(request)
    return _back(month, "received")


@router.get("/fees/{month}/notice.pdf")
def notice(request: Request, month: str, user: PageUser) -> Response:
    data = month_notice(archive_of(request), models_of(request), month)
    return Response(data, headers=notice_headers(month))
