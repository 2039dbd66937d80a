"""What a document holds besides its fields: its scans, signatures and refusals, and the
status rule they make (shared by the aggregate and the projections, which keep facts, not
aggregates)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Scan:
    sha256: str
    media_type: str
    size: int
    filename: str
    label: str
    attached_by: str
    attached_at: datetime
    version: int
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass
class Signature:
    role: str
    signer: str
    content_hash: str
    signed_at: datetime
    version: int
    actor: str
    image_sha256: str | None = None
    # Signed for the person the form names in this role (who could not sign), with why.
    on_behalf_of: str | None = None
    on_behalf_reason: str = ""


@dataclass
class Refusal:
    role: str
    signer: str
    reason: str
    refused_at: datetime
    version: int


def document_status(voided: bool, missing_roles: Sequence[str], submitted: bool) -> str:
    """The status rule of :meth:`Document.status`, from its facts alone (projections keep
    facts, not aggregates)."""
    if voided:
        return "voided"
    if missing_roles:
        return "awaiting_signatures"
    if submitted:
        return "submitted"
    return "complete"


# The label of the scan a signature pad's drawing is attached as, in the commit that records
# the customer's signature.
SIGNATURE_SCAN_LABEL = "客户签名"


def paper_scan_hashes(
    active_scans: Iterable[tuple[str, str]], signature_images: Iterable[str | None]
) -> list[str]:
    """The active scans (``(sha256, label)``) that are scans of the paper: a drawn
    signature's image (attached as :data:`SIGNATURE_SCAN_LABEL` and named by a signature) is
    evidence of that signature, not the paper original a submission and a month's closing
    need. A scan of the paper the customer signed, given as his signature's evidence, still
    is the paper's scan."""
    images = set(signature_images)
    return [
        sha for sha, label in active_scans if not (label == SIGNATURE_SCAN_LABEL and sha in images)
    ]
