"""What a document's state says (its content hash, active scans, current signatures, status):
the reading half of the ``Document`` aggregate, kept apart so the aggregate's module holds its
events and rules."""

from __future__ import annotations

from typing import Any

from events.canonical import content_hash
from events.document_state import Refusal, Scan, Signature, document_status, paper_scan_hashes


class DocumentReading:
    """Mixed into ``Document``; reads only the attributes its events set."""

    kind: str
    number: str
    fields: dict[str, Any]
    scans: list[Scan]
    signatures: list[Signature]
    refusals: list[Refusal]
    content_version: int
    voided: dict[str, Any] | None
    submission: dict[str, Any] | None

    @property
    def content_hash(self) -> str:
        return content_hash(self.kind, self.number, self.fields)

    def active_scan(self, sha256: str) -> Scan | None:
        return next((s for s in self.scans if s.sha256 == sha256 and s.active), None)

    def active_scans(self) -> list[Scan]:
        return [s for s in self.scans if s.active]

    def paper_scans(self) -> list[Scan]:
        """The active scans of the paper original (not a signature's image): what a
        submission and a month's closing need."""
        active = self.active_scans()
        paper = set(
            paper_scan_hashes(
                ((s.sha256, s.label) for s in active), (g.image_sha256 for g in self.signatures)
            )
        )
        return [s for s in active if s.sha256 in paper]

    def current_signatures(self) -> list[Signature]:
        """Signatures made on the current content (after the last filing or amendment) and
        not refused since in their role: a refusal takes back the role's earlier signature
        until someone signs after it."""
        current = self.content_hash
        refused = getattr(self, "refusals", [])
        return [
            s
            for s in self.signatures
            if s.version > self.content_version
            and s.content_hash == current
            and not any(r.role == s.role and r.version > s.version for r in refused)
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
