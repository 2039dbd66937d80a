"""An off-site service's departure and return: the rules of the ``Document`` aggregate for
that one kind, kept apart from the rules every kind shares. The events themselves
(``Document.Departed``, ``Document.Returned``) stay on ``Document``: their stored topics name it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.errors import RuleError


class OffsiteTrips:
    """Mixed into ``Document``."""

    departure: dict[str, Any] | None
    return_trip: dict[str, Any] | None

    def depart(
        self, handheld_terminal_id: str, odometer_out: int | None, actor: str, at: datetime
    ) -> None:
        self._require_open()
        if self.departure is not None:
            raise RuleError("already_departed", "已登记出发", "already departed")
        if "clerk" not in self.signed_roles():
            raise RuleError(
                "clerk_not_signed",
                "信息员尚未签字确认带手持机，技师不能出发",
                "the clerk must sign (handheld terminal taken) before departure",
            )
        self.trigger_event(
            self.Departed,
            handheld_terminal_id=handheld_terminal_id,
            odometer_out=odometer_out,
            actor=actor,
            timestamp=at,
        )

    def return_from_trip(
        self,
        odometer_in: int | None,
        mileage_claimed: int,
        mileage_verified: int,
        actor: str,
        at: datetime,
    ) -> None:
        self._require_open()
        if self.departure is None:
            raise RuleError("not_departed", "尚未登记出发", "has not departed")
        if self.return_trip is not None:
            raise RuleError("already_returned", "已登记返回", "already returned")
        self.trigger_event(
            self.Returned,
            odometer_in=odometer_in,
            mileage_claimed=mileage_claimed,
            mileage_verified=mileage_verified,
            actor=actor,
            timestamp=at,
        )

    @property
    def mileage_difference(self) -> int | None:
        """Claimed minus verified off-site kilometres; non-zero is flagged for the auditor."""
        if self.return_trip is None:
            return None
        return self.return_trip["mileage_claimed"] - self.return_trip["mileage_verified"]
