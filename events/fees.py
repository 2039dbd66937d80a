"""The ``ServiceFeeMonth`` aggregate: the invoice for one month's service fees (服务费用发票).

At month end the information desk tells the station head the month's service fees (the
submitted warranty claims' fees, as the return binding sums them) and asks for the invoice;
when it arrives, its number and amount are recorded. Each is an event; a correction is the same
event again with the reason, so the first request or receipt stays in the history.
Amounts are yuan as text with two decimals ("12345.60"), exact; dates are 'YYYY-MM-DD'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.errors import RuleError

FEE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:dealer-archive:service-fee-month")


class ServiceFeeMonth(Aggregate):
    """Id derives from the month ("2026-11"), so a month has one invoice record."""

    @staticmethod
    def create_id(month: str) -> UUID:
        return uuid5(FEE_NAMESPACE, month)

    class Opened(Aggregate.Created):
        month: str
        actor: str

    def __init__(self, month: str, actor: str) -> None:
        self.month = month
        self.requests: list[dict[str, Any]] = []  # every request, corrections after the first
        self.receipts: list[dict[str, Any]] = []

    class InvoiceRequested(Aggregate.Event):
        amount: str  # what the station head is asked to invoice
        computed: str  # the month's fee as the archive summed it then (a difference is flagged)
        claims: int  # how many submitted claims that sum counted
        note: str
        actor: str
        reason: str | None = None  # set on a correction of an earlier request

        def apply(self, fees: ServiceFeeMonth) -> None:
            fees.requests.append(
                {
                    "amount": self.amount,
                    "computed": self.computed,
                    "claims": self.claims,
                    "note": self.note,
                    "by": self.actor,
                    "at": self.timestamp,
                    "reason": self.reason,
                }
            )

    class InvoiceReceived(Aggregate.Event):
        invoice_no: str
        amount: str
        received_on: str  # 'YYYY-MM-DD', the day the invoice came in
        actor: str
        reason: str | None = None  # set on a correction of an earlier receipt

        def apply(self, fees: ServiceFeeMonth) -> None:
            fees.receipts.append(
                {
                    "invoice_no": self.invoice_no,
                    "amount": self.amount,
                    "received_on": self.received_on,
                    "by": self.actor,
                    "at": self.timestamp,
                    "reason": self.reason,
                }
            )

    @classmethod
    def open(cls, month: str, actor: str, at: datetime) -> ServiceFeeMonth:
        return cls._create(cls.Opened, month=month, actor=actor, timestamp=at)

    @property
    def request(self) -> dict[str, Any] | None:
        """The request as it stands (the last correction), or None."""
        return self.requests[-1] if self.requests else None

    @property
    def receipt(self) -> dict[str, Any] | None:
        return self.receipts[-1] if self.receipts else None

    def request_invoice(
        self,
        amount: str,
        computed: str,
        claims: int,
        note: str,
        actor: str,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        if self.requests and not reason:
            raise RuleError(
                "invoice_already_requested",
                f"{self.month} 的服务费发票已申请；如需更正，请填写更正原因",
                f"the invoice for {self.month} was already requested; give a reason to correct it",
            )
        self.trigger_event(
            self.InvoiceRequested,
            amount=amount,
            computed=computed,
            claims=claims,
            note=note,
            actor=actor,
            reason=reason if self.requests else None,
            timestamp=at,
        )

    def receive_invoice(
        self,
        invoice_no: str,
        amount: str,
        received_on: str,
        actor: str,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        if not self.requests:
            raise RuleError(
                "invoice_not_requested",
                f"{self.month} 的服务费发票尚未申请，请先申请开票再登记收到",
                f"the invoice for {self.month} was not requested yet",
            )
        if self.receipts and not reason:
            raise RuleError(
                "invoice_already_received",
                f"{self.month} 的服务费发票已登记收到；如需更正，请填写更正原因",
                f"the invoice for {self.month} was already received; give a reason to correct it",
            )
        self.trigger_event(
            self.InvoiceReceived,
            invoice_no=invoice_no,
            amount=amount,
            received_on=received_on,
            actor=actor,
            reason=reason if self.receipts else None,
            timestamp=at,
        )
