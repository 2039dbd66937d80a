"""The ``Document`` aggregate: one filed paper (work order, warranty claim, ...) and its life.

Every event carries ``actor``, the username of the staff member who caused it. The aggregate
enforces what is true of every kind (a voided document takes no more changes, a scan can be
withdrawn only once, ...); kind-specific rules, validation and permissions live in ``archive``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.document_reading import DocumentReading

# document_status is read from here by projections that replay facts, not aggregates.
from events.document_state import Refusal, Scan, Signature, document_status  # noqa: F401
from events.document_trips import OffsiteTrips
from events.errors import RuleError

DOCUMENT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:dealer-archive:document")


class Document(DocumentReading, OffsiteTrips, Aggregate):
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
        # Submissions undone by a later amendment or refusal (the paper went back to be
        # corrected and must be submitted again).
        self.withdrawn_submissions: list[dict[str, Any]] = []
        # The document's links to the papers it refers to, keyed by field (see LinksRecorded).
        self.links: dict[str, dict[str, Any]] = {}
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

    class ScanRead(Aggregate.Event):
        """OCR of an attached scan (archive/commands/ocr.py): the PDF/A made from it (a blob),
        its text, and each derived page's fingerprint, so a bundle's pages can be proved."""

        sha256: str
        derived_sha256: str
        text: str
        pages: int
        engine: str
        page_fingerprints: list[str]

        def apply(self, doc: Document) -> None:
            # A document replayed from before readings existed gets the dict on its first one.
            vars(doc).setdefault("readings", {})[self.sha256] = self

    class Signed(Aggregate.Event):
        role: str
        signer: str
        content_hash: str
        image_sha256: str | None
        actor: str
        # Signed for the person the form names, who could not sign himself (the defaults
        # keep events stored before this existed readable).
        on_behalf_of: str | None = None
        on_behalf_reason: str = ""

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
                    on_behalf_of=self.on_behalf_of,
                    on_behalf_reason=self.on_behalf_reason,
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
        # After the kind's SubmitWithin deadline (a date in the archive's business calendar);
        # events stored before the rule existed read as on time, with no deadline.
        late: bool = False
        deadline: date | None = None

        def apply(self, doc: Document) -> None:
            doc.submission = {
                "claim_no": self.claim_no,
                "by": self.actor,
                "at": self.timestamp,
                "late": self.late,
                "deadline": self.deadline,
            }

    class SubmissionWithdrawn(Aggregate.Event):
        """A submitted claim was amended or a signature on it refused: the paper must be
        corrected and submitted again, so it is no longer submitted."""

        reason: str
        actor: str

        def apply(self, doc: Document) -> None:
            assert doc.submission is not None
            doc.withdrawn_submissions.append(
                {**doc.submission, "withdrawn_at": self.timestamp, "withdrawn_reason": self.reason}
            )
            doc.submission = None

    class LinksRecorded(Aggregate.Event):
        """The state of each link field when filed or amended (saved in the same commit).

        Each link: ``field``, ``target_kind``, ``target_number`` (or ``None``), ``state``
        (``ok``, ``unlinked``, ``mileage_differs``, ``further``), ``reason`` and ``detail``.
        """

        links: list[dict[str, Any]]
        actor: str

        def apply(self, doc: Document) -> None:
            for link in self.links:
                doc.links[link["field"]] = dict(link)

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
        on_behalf_of: str | None = None,
        on_behalf_reason: str = "",
    ) -> None:
        self.check_sign(role, signer)
        self.trigger_event(
            self.Signed,
            role=role,
            signer=signer,
            content_hash=self.content_hash,
            image_sha256=image_sha256,
            actor=actor,
            on_behalf_of=on_behalf_of,
            on_behalf_reason=on_behalf_reason,
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

    def submit(
        self,
        claim_no: str,
        actor: str,
        at: datetime,
        late: bool = False,
        deadline: date | None = None,
    ) -> None:
        self._require_open()
        if self.submission is not None:
            # No date here: the aggregate knows instants only in UTC, and a date in the
            # message would be the wrong day at night; pages show when, in local time.
            raise RuleError(
                "already_submitted",
                f"已上报服务中心，索赔号 {self.submission['claim_no']}，不能再次上报",
                "already submitted",
            )
        self.trigger_event(
            self.Submitted,
            claim_no=claim_no,
            actor=actor,
            late=late,
            deadline=deadline,
            timestamp=at,
        )

    def withdraw_submission(self, reason: str, actor: str, at: datetime) -> None:
        """Undo a submission (a change to a submitted claim); nothing when not submitted."""
        if self.submission is not None:
            self.trigger_event(self.SubmissionWithdrawn, reason=reason, actor=actor, timestamp=at)

    def record_links(self, links: list[dict[str, Any]], actor: str, at: datetime) -> None:
        if links:
            self.trigger_event(self.LinksRecorded, links=links, actor=actor, timestamp=at)
