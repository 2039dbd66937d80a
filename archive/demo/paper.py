"""One paper's planned life: filed once, then signed, scanned, corrected, submitted or voided.

A :class:`Paper` collects what happens to a document in local time, in any order; then
:meth:`Paper.operations` puts it in order and turns it into operations. Amending makes the
signatures made so far stale (``events.document``), so an amendment planned with ``resign``
adds a fresh signature by everyone who had signed before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from archive.demo.desk import Desk, to_utc
from archive.demo.ops import (
    AmendDocument,
    AttachScan,
    Depart,
    FileDocument,
    FileDraftedReport,
    Operation,
    ReturnTrip,
    SignDocument,
    SubmitClaim,
    VoidDocument,
)
from archive.kinds.registry import get_kind

# The write path stores instants to the microsecond; a minute apart keeps a paper's steps
# in the intended order even after the global sort by time.
GAP = timedelta(minutes=1)


@dataclass(frozen=True)
class Step:
    at: datetime  # local time
    action: str  # sign | amend | scan | void | submit | depart | return
    actor: str
    role: str = ""
    customer: str | None = None  # the customer whose signature the clerk records
    changes: dict[str, Any] | None = None
    reason: str = ""
    resign: bool = True
    claim_no: str = ""
    again: bool = False  # a signature given again after an amendment
    trip: dict[str, Any] | None = None  # off-site departure or return details
    on_behalf_of: str = ""  # signing for this named person (username), for ``reason``


class Paper:
    def __init__(
        self, kind: str, number: str, fields: dict[str, Any], filer: str, filed_at: datetime
    ) -> None:
        self.kind = kind
        self.number = number
        self.fields = fields  # as filed; a correction may still change what was filed
        self.filer = filer
        self.filed_at = filed_at
        self.steps: list[Step] = []
        self.unlinked_reason = ""  # filed from paper that names an order from before the system
        self.drafted: tuple[int, int] | None = None  # a daily report drafted: (part, parts)

    # -- planning -----------------------------------------------------------------------------

    def sign(
        self,
        role: str,
        actor: str,
        at: datetime,
        customer: str | None = None,
        on_behalf_of: str = "",
        reason: str = "",
    ) -> None:
        self.steps.append(
            Step(
                at,
                "sign",
                actor,
                role=role,
                customer=customer,
                on_behalf_of=on_behalf_of,
                reason=reason,
            )
        )

    def amend(
        self, at: datetime, changes: dict[str, Any], reason: str, actor: str, resign: bool = True
    ) -> None:
        self.steps.append(Step(at, "amend", actor, changes=changes, reason=reason, resign=resign))

    def scan(self, at: datetime, actor: str) -> None:
        self.steps.append(Step(at, "scan", actor))

    def void(self, at: datetime, actor: str, reason: str) -> None:
        self.steps.append(Step(at, "void", actor, reason=reason))

    def submit(self, at: datetime, actor: str, claim_no: str) -> None:
        self.steps.append(Step(at, "submit", actor, claim_no=claim_no))

    def depart(self, at: datetime, actor: str, terminal: str, odometer_out: int) -> None:
        trip = {"handheld_terminal_id": terminal, "odometer_out": odometer_out}
        self.steps.append(Step(at, "depart", actor, trip=trip))

    def return_trip(
        self, at: datetime, actor: str, odometer_in: int, claimed: int, verified: int
    ) -> None:
        trip = {
            "odometer_in": odometer_in,
            "mileage_claimed": claimed,
            "mileage_verified": verified,
        }
        self.steps.append(Step(at, "return", actor, trip=trip))

    def first(self, action: str) -> Step | None:
        found = sorted((s for s in self.steps if s.action == action), key=lambda s: s.at)
        return found[0] if found else None

    @property
    def voided(self) -> bool:
        return any(s.action == "void" for s in self.steps)

    @property
    def amended(self) -> bool:
        return any(s.action == "amend" for s in self.steps)

    def drop_signature(self, rng: random.Random, keep: tuple[str, ...] = ()) -> str | None:
        """Leave one planned signature out (the paper stays incomplete); the role dropped."""
        signs = [s for s in self.steps if s.action == "sign" and s.role not in keep]
        if not signs:
            return None
        dropped = rng.choice(signs)
        self.steps.remove(dropped)
        return dropped.role

    # -- turning into operations ---------------------------------------------------------------

    def operations(self, rng: random.Random, desk: Desk) -> list[Operation]:
        ops: list[Operation] = [self._filing()]
        pending = sorted(self.steps, key=lambda s: s.at)
        # (role, signer) -> the signature on the current version; two technicians may both sign.
        signed: dict[tuple[str, str], Step] = {}
        scanned = False
        last = self.filed_at
        index = 0
        while index < len(pending):
            step = pending[index]
            index += 1
            if isinstance(ops[-1], VoidDocument):
                raise ValueError(f"{self.kind} {self.number}: nothing may follow a void")
            if step.action == "submit" and not self._ready(signed, scanned):
                # The write path refuses a submission before every signature and the scan:
                # the clerk submits once the last of them is in, or never.
                later = [s for s in pending[index:] if s.action in ("sign", "scan")]
                if later:
                    # In working time: the last signature may come just before closing.
                    ready = max(s.at for s in later)
                    moved = replace(step, at=desk.after(ready, 10 * GAP // timedelta(minutes=1)))
                    pending[index:] = sorted([*pending[index:], moved], key=lambda s: s.at)
                continue
            at = max(step.at, last + GAP)
            last = at
            scanned = scanned or step.action == "scan"
            if step.action == "sign":
                signer = (step.role, step.customer or step.actor)
                if signer in signed:
                    raise ValueError(f"{self.kind} {self.number}: {signer} signs twice")
                signed[signer] = step
            elif step.action == "amend" and step.resign and signed:
                # Everyone who had signed signs the corrected version, within a working day.
                again = [
                    replace(s, at=desk.after(at, rng.randint(10, 600)), again=True)
                    for s in signed.values()
                ]
                pending[index:] = sorted(pending[index:] + again, key=lambda s: s.at)
            if step.action == "amend":
                signed = {}
            ops.append(self._operation(step, at))
        return ops

    def _filing(self) -> FileDocument:
        common = {
            "at": to_utc(self.filed_at),
            "kind": self.kind,
            "number": self.number,
            "actor": self.filer,
            "data": {"number": self.number, **self.fields},
        }
        if self.drafted is not None:
            part, parts = self.drafted
            day = self.fields["business_date"]
            return FileDraftedReport(**common, day=day, part=part, parts=parts)
        return FileDocument(**common, unlinked_reason=self.unlinked_reason or None)

    def _ready(self, signed: dict[tuple[str, str], Step], scanned: bool) -> bool:
        roles = {role for role, _ in signed}
        return scanned and set(get_kind(self.kind).signers) <= roles

    def _slip(self) -> tuple[str, ...]:
        """What the scanned paper says: the form's title, its number, customer and date."""
        kind = get_kind(self.kind)
        customer = self.fields.get("customer_name")
        return (
            kind.label,
            f"{kind.number_label}：{self.number}",
            *([f"客户：{customer}"] if customer else []),
            f"日期：{self.fields.get('business_date', '')}",
            "已签字的纸质原件存于月度档案夹",
        )

    def _operation(self, step: Step, at: datetime) -> Operation:
        common = {"at": to_utc(at), "kind": self.kind, "number": self.number, "actor": step.actor}
        if step.action == "sign":
            variant = f"{self.number}/{at:%Y%m%d%H%M}" if step.again else ""
            return SignDocument(
                **common,
                role=step.role,
                customer_name=step.customer,
                image_variant=variant,
                on_behalf_of=step.on_behalf_of or None,
                on_behalf_reason=step.reason if step.on_behalf_of else None,
            )
        if step.action == "amend":
            assert step.changes is not None
            return AmendDocument(**common, changes=step.changes, reason=step.reason)
        if step.action == "scan":
            return AttachScan(
                **common,
                filename=f"{self.number}.pdf",
                label="纸质单据扫描件",
                text=self._slip(),
            )
        if step.action == "void":
            return VoidDocument(**common, reason=step.reason)
        if step.action == "submit":
            return SubmitClaim(**common, claim_no=step.claim_no)
        if step.action == "depart":
            assert step.trip is not None
            return Depart(**common, **step.trip)
        if step.action == "return":
            assert step.trip is not None
            return ReturnTrip(**common, **step.trip)
        raise ValueError(f"unknown step {step.action!r}")
