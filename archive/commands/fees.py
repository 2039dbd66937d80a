"""The month's service-fee invoice: asking the station head for it, recording it received.

A month is invoiced once it is over (its claims may still be submitted during it). The amount
asked for or received may differ from the month's fee as the archive sums it (the centre may
have cut a claim): that is accepted and shown as a difference on the report, never refused.
Receiving comes after requesting; a second request or receipt is a correction and needs a
reason. Every refusal happens before anything is saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from eventsourcing.application import AggregateNotFoundError

from archive.bootstrap import Archive, opening
from archive.commands.common import require_actor, require_reason, save
from archive.errors import Conflict, FieldProblem, ValidationFailed
from archive.kinds.fieldtypes import Context, Date, Invalid, Money
from archive.kinds.text import check_text
from archive.staff.permissions import INVOICE, require
from events.fees import ServiceFeeMonth
from projections.fees import MonthFee, ServiceFees
from projections.runner import catch_up

MAX_NOTE = 200
MAX_INVOICE_NO = 40
# Years as the registry's dates take them (1990-2100); the API's schema says the same.
MONTH_PATTERN = r"(199\d|20\d\d|2100)-(0[1-9]|1[0-2])"
_MONTH = re.compile(MONTH_PATTERN)


def parse_month(raw: str | None, field: str = "month") -> str:
    text = (raw or "").strip()
    if not _MONTH.fullmatch(text):
        raise ValidationFailed(
            [FieldProblem(field, "月份请写成 2026-11 这样", "month must look like 2026-11")]
        )
    return text


def parse_amount(raw: object, field: str = "amount") -> Decimal:
    """Yuan, exact to the fen, more than zero (a figure as the registry's Money reads it)."""
    try:
        value = Money().parse(raw if raw is not None else "", Context())
    except Invalid as problem:
        raise ValidationFailed(
            [FieldProblem(field, f"金额{problem.message_zh}", problem.message_en)]
        ) from None
    if value <= 0:
        raise ValidationFailed(
            [FieldProblem(field, "金额应大于 0 元", "the amount must be more than zero")]
        )
    return value


def month_is_over(archive: Archive, month: str) -> bool:
    today = archive.now().astimezone(archive.settings.tz).date()
    year, number = int(month[:4]), int(month[5:])
    first_after = date(year + number // 12, number % 12 + 1, 1)
    return today >= first_after


@contextmanager
def service_fees(archive: Archive) -> Iterator[ServiceFees]:
    """The service-fee read model alone, caught up with the log, closed after use."""
    with opening(archive.layout):
        fees = ServiceFees(archive.read_models_location, archive.settings.tz)
    try:
        catch_up(fees, archive.log())
        yield fees
    finally:
        fees.close()


def month_fee(archive: Archive, month: str) -> MonthFee:
    """The month's submitted claims and their fees, as the log stands now."""
    with service_fees(archive) as fees:
        return fees.month_fee(month)


def fee_month(archive: Archive, month: str) -> ServiceFeeMonth | None:
    """The invoice record of ``month``, or None when nothing was recorded for it."""
    try:
        found: ServiceFeeMonth = archive.app.repository.get(ServiceFeeMonth.create_id(month))
    except AggregateNotFoundError:
        return None
    return found


def request_invoice(
    archive: Archive,
    month: str,
    amount: object,
    actor: str,
    note: str = "",
    reason: str | None = None,
) -> ServiceFeeMonth:
    """Record that the station head was asked to invoice ``amount`` for ``month``; ``reason``
    corrects an earlier request."""
    require(require_actor(archive, actor), INVOICE)
    month = parse_month(month)
    value = parse_amount(amount)
    note = check_text((note or "").strip(), "note", "备注")
    if len(note) > MAX_NOTE:
        raise ValidationFailed(
            [FieldProblem("note", f"备注不能超过 {MAX_NOTE} 字", "the note is too long")]
        )
    if reason is not None:
        reason = require_reason(reason)
    if not month_is_over(archive, month):
        raise Conflict(
            "month_not_over",
            f"{month} 尚未结束，月底之后才能申请开具服务费发票",
            f"{month} is not over yet; an invoice is requested after the month ends",
        )
    computed = month_fee(archive, month)
    fees = fee_month(archive, month) or ServiceFeeMonth.open(month, actor, archive.now())
    fees.request_invoice(
        amount=f"{value:.2f}",
        computed=f"{computed.fee:.2f}",
        claims=computed.claims,
        note=note,
        actor=actor,
        at=archive.now(),
        reason=reason,
    )
    save(archive, fees)
    return fees


def receive_invoice(
    archive: Archive,
    month: str,
    invoice_no: str,
    amount: object,
    actor: str,
    received_on: object | None = None,
    reason: str | None = None,
) -> ServiceFeeMonth:
    """Record the invoice for ``month`` as received (number, amount, day; default today)."""
    require(require_actor(archive, actor), INVOICE)
    month = parse_month(month)
    problems = []
    number = (invoice_no or "").strip()
    if not number or len(number) > MAX_INVOICE_NO:
        problems.append(
            FieldProblem(
                "invoice_no",
                f"请填写发票号码（{MAX_INVOICE_NO} 字以内）",
                "the invoice number is required",
            )
        )
    value = parse_amount(amount)
    today = archive.now().astimezone(archive.settings.tz).date()
    day = today
    if received_on not in (None, ""):
        try:
            day = Date().parse(received_on, Context(tz=archive.settings.tz))
        except Invalid as problem:
            problems.append(FieldProblem("received_on", problem.message_zh, problem.message_en))
    if problems:
        raise ValidationFailed(problems)
    number = check_text(number, "invoice_no", "发票号码")
    if reason is not None:
        reason = require_reason(reason)
    fees = fee_month(archive, month)
    if fees is None or fees.request is None:
        raise Conflict(
            "invoice_not_requested",
            f"{month} 的服务费发票尚未申请，请先申请开票再登记收到",
            f"the invoice for {month} was not requested yet",
        )
    # A day outside [the request, today] is refused as a conflict with the record and the
    # clock, not as malformed input: the day itself is well formed.
    requested_on = fees.request["at"].astimezone(archive.settings.tz).date()
    if not requested_on <= day <= today:
        raise Conflict(
            "received_on_out_of_range",
            f"收票日期应在申请开票的日期 {requested_on} 与今天 {today} 之间",
            f"received_on must be between the request ({requested_on}) and today ({today})",
        )
    fees.receive_invoice(
        invoice_no=number,
        amount=f"{value:.2f}",
        received_on=day.isoformat(),
        actor=actor,
        at=archive.now(),
        reason=reason,
    )
    save(archive, fees)
    return fees
