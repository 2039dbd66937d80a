"""The demo's service-fee invoices: each month's invoice asked of the station head on the 3rd
of the next month, and received a week later, through ``archive.commands`` like the rest.

The last month of the demo is asked for and never received, and a month whose request falls
after the demo's clock is not asked for at all, so the dashboard has months without an invoice
to show; in a demo of three months or more, the first month's invoice comes back 120 yuan short
(the centre cut a claim), so the report has a difference to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from archive.bootstrap import Archive
from archive.demo.desk import Desk, parse_month, to_utc
from archive.demo.ops import Operation
from archive.demo.people import Roster

KIND = "service_fee"  # the operations' kind; ``number`` is the month
SHORT = Decimal("120.00")  # what the centre cut from one month's invoice


@dataclass(frozen=True, kw_only=True)
class RequestInvoice(Operation):
    """Ask for the invoice of the month's fee as the archive sums it at that moment."""

    note: str


@dataclass(frozen=True, kw_only=True)
class ReceiveInvoice(Operation):
    invoice_no: str
    short: Decimal = Decimal("0")  # less than requested, by this much


FeeOperation = RequestInvoice | ReceiveInvoice


def fee_operations(months: list[str], roster: Roster) -> list[Operation]:
    """The invoice requests and receipts of ``months`` (the plan keeps those before its clock)."""
    clerk = roster.registered_clerk.username
    operations: list[Operation] = []
    for index, month in enumerate(months):
        after = Desk(f"{parse_month(month) + timedelta(days=32):%Y-%m}")
        asked = after.on_or_after(after.first + timedelta(days=2))  # the 3rd, or the next day
        operations.append(
            RequestInvoice(
                at=to_utc(after.at(asked, 10, 15)),
                kind=KIND,
                number=month,
                actor=clerk,
                note="已通知站长开具服务费用发票",
            )
        )
        if index == len(months) - 1:
            continue  # the last month: still waiting for the invoice
        received = after.next_day(asked, 6)
        operations.append(
            ReceiveInvoice(
                at=to_utc(after.at(received, 15, 40)),
                kind=KIND,
                number=month,
                actor=clerk,
                invoice_no=f"{44031000 + index * 1379:08d}",
                short=SHORT if index == 0 and len(months) >= 3 else Decimal("0"),
            )
        )
    return operations


def apply_fee_operation(archive: Archive, op: FeeOperation) -> None:
    from archive.commands.fees import fee_month, month_fee, receive_invoice, request_invoice

    if isinstance(op, RequestInvoice):
        fee = month_fee(archive, op.number).fee
        # A month without a submitted claim has no fee to invoice: nothing to ask for.
        if fee > 0:
            request_invoice(archive, op.number, fee, op.actor, note=op.note)
        return
    fees = fee_month(archive, op.number)
    if fees is None or fees.request is None:
        return
    amount = Decimal(fees.request["amount"]) - op.short
    receive_invoice(archive, op.number, op.invoice_no, amount, op.actor)
