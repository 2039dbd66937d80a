"""The ``Document`` aggregate: one filed paper (work order, warranty claim, ...) and its life.

Every event carries ``actor``, the username of the staff member who caused it. The aggregate
enforces what is true of every kind (a voided document takes no more changes, a scan can be
withdrawn only once, ...); kind-specific rules, validation and permissions live in ``archive``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.canonical import content_hash
from events.document_state import Refusal, Scan, Signature, document_status
from events.errors import RuleError

DOCUMENT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:dealer-archive:document")


class Document(Aggregate):
    """A filed document. Its id derives from (kind, number), so a number is filed once."""

    @staticmethod
    def create_id(kind: str, number: str) -> UUID:
        return uuid5(DOCUMENT_NAMESPACE, f"{kind}/{number}")

    class Filed(Aggregate.Created):
        kind: str
        number: str
        fields: dict[str, Any]
        actor: str

    def __init__(self, kind: str, number: str, fields: dict[str, Any], actor: str) -> None:
        self.kind = kind
        self.number = number
        self.fields = dict(fields)
        self.filed_by = actor
        self.filed_at: datetime = self.created_on
        # The version whose content the current fields are; signatures older than it are stale.
        self.content_version = 1
        self.amendment_count = 0
        self.scans: list[Scan] = []
        self.signatures: list[Signature] = []
        self.refusals: list[Refusal] = []
        self.voided: dict[str, Any] | None = None
        self.submission: dict[str, Any] | None = None
        # Off-site service: when the technicians left and came back (not content: signatures
        # on the order stay valid across these).
        self.departure: dict[str, Any] | None = None
        self.return_trip: dict[str, Any] | None = None

    @classmethod
    def file(
        cls, kind: str, number: str, fields: dict[str, Any], actor: str, at: datetime
    ) -> Document:
        return cls._create(
            cls.Filed, kind=kind, number=number, fields=fields, actor=actor, timestamp=at
        )

    # -- events ---------------------------------------------------------------------------

    class Amended(Aggregate.Event):
        changes: dict[str, Any]
        reason: str
        actor: str

        def apply(self, doc: Document) -> None:
            for code, value in self.changes.items():
                if value is None:
                    doc.fields.pop(code, None)
                else:
                    doc.fields[code] = value
            doc.content_version = self.originator_version
            doc.amendment_count += 1

    class ScanAttached(Aggregate.Event):
        sha256: str
        media_type: str
        size: int
        filename: str
        label: str
        actor: str

        def apply(self, doc: Document) -> None:
            doc.scans.append(
                Scan(
                    sha256=self.sha256,
                    media_type=self.media_type,
                    size=self.size,
                    filename=self.filename,
                    label=self.label,
                    attached_by=self.actor,
                    attached_at=self.timestamp,
                    version=self.originator_version,
                )
            )

    class ScanWithdrawn(Aggregate.Event):
        sha256: str
        reason: str
        actor: str

        def apply(self, doc: Document) -> None:
            scan = doc.active_scan(self.sha256)
            assert scan is not None
            scan.withdrawn_by = self.actor
            scan.withdrawn_at = self.timestamp
            scan.withdrawn_reason = self.reason

    class Signed(Aggregate.Event):
        role: str
        signer: str
        content_hash: str
        image_sha256: str | None
        actor: str

        def apply(self, doc: Document) -> None:
            doc.signatures.append(
                Signature(
                    role=self.role,
                    signer=self.signer,
                    content_hash=self.content_hash,
                    signed_at=self.timestamp,
                    version=self.originator_version,
                    actor=self.actor,
                    image_sha256=self.image_sha256,
                )
            )

    class SignatureRefused(Aggregate.Event):
        role: str
        reason: str
        actor: str

        def apply(self, doc: Document) -> None:
            doc.refusals.append(
                Refusal(
                    role=self.role,
                    signer=self.actor,
                    reason=self.reason,
                    refused_at=self.timestamp,
                    version=self.originator_version,
                )
            )

    class Voided(Aggregate.Event):
        reason: str
        actor: str

        def apply(self, doc: Document) -> None:
            doc.voided = {"reason": self.reason, "by": self.actor, "at": self.timestamp}

    class Submitted(Aggregate.Event):
        claim_no: str
        actor: str

        def apply(self, doc: Document) -> None:
            doc.submission = {"claim_no": self.claim_no, "by": self.actor, "at": self.timestamp}

    class Departed(Aggregate.Event):
        handheld_terminal_id: str
        odometer_out: int | None
        actor: str

        def apply(self, doc: Document) -> None:
            doc.departure = {
                "handheld_terminal_id": self.handheld_terminal_id,
                "odometer_out": self.odometer_out,
                "by": self.actor,
                "at": self.timestamp,
            }

    class Returned(Aggregate.Event):
        odometer_in: int | None
        mileage_claimed: int
        mileage_verified: int
        actor: str

        def apply(self, doc: Document) -> None:
            doc.return_trip = {
                "odometer_in": self.odometer_in,
                "mileage_claimed": self.mileage_claimed,
                "mileage_verified": self.mileage_verified,
                "by": self.actor,
                "at": self.timestamp,
            }

    # -- commands (state rules common to every kind) --------------------------------------

    def _require_open(self) -> None:
        if self.voided is not None:
            raise RuleError(
                "voided",
                f"{self.number} 已作废，不能再修改",
                f"{self.number} is voided and takes no more changes",
            )

    def amend(self, changes: dict[str, Any], reason: str, actor: str, at: datetime) -> None:
        self._require_open()
        effective = {k: v for k, v in changes.items() if self.fields.get(k) != v}
        if not effective:
            raise RuleError("no_change", "修改内容与当前版本相同", "the amendment changes nothing")
        self.trigger_event(
            self.Amended, changes=effective, reason=reason, actor=actor, timestamp=at
        )

    def attach_scan(
        self,
        sha256: str,
        media_type: str,
        size: int,
        filename: str,
        label: str,
        actor: str,
        at: datetime,
    ) -> None:
        self._require_open()
        if self.active_scan(sha256) is not None:
            raise RuleError(
                "duplicate_scan", "该扫描件已附在本单据上", "this scan is already attached"
            )
        self.trigger_event(
            self.ScanAttached,
            sha256=sha256,
            media_type=media_type,
            size=size,
            filename=filename,
            label=label,
            actor=actor,
            timestamp=at,
        )

    def withdraw_scan(self, sha256: str, reason: str, actor: str, at: datetime) -> None:
        self._require_open()
        if self.active_scan(sha256) is None:
            raise RuleError("no_such_scan", "本单据没有该扫描件（或已撤回）", "no such active scan")
        self.trigger_event(
            self.ScanWithdrawn, sha256=sha256, reason=reason, actor=actor, timestamp=at
        )

    def sign(
        self,
        role: str,
        signer: str,
        actor: str,
        at: datetime,
        image_sha256: str | None = None,
    ) -> None:
        self.check_sign(role, signer)
        self.trigger_event(
            self.Signed,
            role=role,
            signer=signer,
            content_hash=self.content_hash,
            image_sha256=image_sha256,
            actor=actor,
            timestamp=at,
        )

    def check_sign(self, role: str, signer: str) -> None:
        """The rules of :meth:`sign`, for a command to ask before it stores anything for the
        signature (the image of a drawn one): a refused signature leaves nothing behind."""
        self._require_open()
        if any(s.role == role and s.signer == signer for s in self.current_signatures()):
            raise RuleError(
                "already_signed", "已在当前版本上签过字", "already signed the current version"
            )

    def refuse(self, role: str, reason: str, actor: str, at: datetime) -> None:
        self._require_open()
        self.trigger_event(
            self.SignatureRefused, role=role, reason=reason, actor=actor, timestamp=at
        )

    def void(self, reason: str, actor: str, at: datetime) -> None:
        self._require_open()
        self.trigger_event(self.Voided, reason=reason, actor=actor, timestamp=at)

    def submit(self, claim_no: str, actor: str, at: datetime) -> None:
        self._require_open()
        if self.submission is not None:
            # No date here: the aggregate knows instants only in UTC, and a date in the
            # message would be the wrong day at night; pages show when, in local time.
            raise RuleError(
                "already_submitted",
                f"已上报服务中心，索赔号 {self.submission['claim_no']}，不能再次上报",
                "already submitted",
            )
        self.trigger_event(self.Submitted, claim_no=claim_no, actor=actor, timestamp=at)

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

    # -- reading ----------------------------------------------------------------------------

    @property
    def content_hash(self) -> str:
        return content_hash(self.kind, self.number, self.fields)

    @property
    def mileage_difference(self) -> int | None:
        """Claimed minus verified off-site kilometres; non-zero is flagged for the auditor."""
        if self.return_trip is None:
            return None
        return self.return_trip["mileage_claimed"] - self.return_trip["mileage_verified"]

    def active_scan(self, sha256: str) -> Scan | None:
        return next((s for s in self.scans if s.sha256 == sha256 and s.active), None)

    def active_scans(self) -> list[Scan]:
        return [s for s in self.scans if s.active]

    def current_signatures(self) -> list[Signature]:
        """Signatures made on the current content (after the last filing or amendment)."""
        current = self.content_hash
        return [
            s
            for s in self.signatures
            if s.version > self.content_version and s.content_hash == current
        ]

    def signed_roles(self) -> set[str]:
        return {s.role for s in self.current_signatures()}

    def missing_roles(self, required: list[str]) -> list[str]:
        signed = self.signed_roles()
        return [r for r in required if r not in signed]

    def status(self, required_roles: list[str]) -> str:
        """``voided``, ``awaiting_signatures``, ``submitted`` or ``complete``.

        A missing signature outranks submission: a claim sent to the service centre with a
        signature still owed must keep showing what is owed.
        """
        return document_status(
            self.voided is not None,
            self.missing_roles(required_roles),
            self.submission is not None,
        )
