"""What stops a month from closing: the rule, in one place for the projection and the seal.

The month projection applies it to the facts it keeps per document; the seal command applies it
to the aggregates it loads. Both ask the registry (in ``archive``) through :class:`ClosingCatalog`,
because code here may import only ``events``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from projections.catalog import KindCatalog

# Blocker codes, stable for scripts; ``archive`` words them in Chinese.
UNSIGNED = "unsigned"  # roles that have not signed the current version
UNSCANNED = "unscanned"  # the kind needs a scan of the paper original and has no active one
UNSUBMITTED = "unsubmitted"  # a warranty claim not yet submitted to the service centre


class ClosingCatalog(KindCatalog, Protocol):
    """The kind registry as the month volumes need it (on top of :class:`KindCatalog`)."""

    def scan_required(self, kind: str) -> bool:
        """A paper original must be scanned before the month can close."""
        ...

    def submittable(self, kind: str) -> bool:
        """Documents of this kind are submitted to the service centre (warranty claims)."""
        ...


@dataclass(frozen=True)
class Blocker:
    doc_id: str
    kind: str
    number: str
    code: str
    roles: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "kind": self.kind,
            "number": self.number,
            "code": self.code,
            "roles": list(self.roles),
        }


def document_blockers(
    catalog: ClosingCatalog,
    *,
    doc_id: str,
    kind: str,
    number: str,
    voided: bool,
    missing_roles: Sequence[str],
    has_active_scan: bool,
    submitted: bool,
) -> list[Blocker]:
    """Everything about one document that keeps its month open.

    A voided document blocks nothing. The month checklist also asks that a voided document
    carry the reason it was voided; in this model a void cannot be recorded without one
    (``Document.Voided.reason``, required by the void command), so that item is always
    satisfied and is not checked here.
    """
    if voided:
        return []
    found = []
    if missing_roles:
        found.append(Blocker(doc_id, kind, number, UNSIGNED, tuple(missing_roles)))
    if catalog.scan_required(kind) and not has_active_scan:
        found.append(Blocker(doc_id, kind, number, UNSCANNED))
    if catalog.submittable(kind) and not submitted:
        found.append(Blocker(doc_id, kind, number, UNSUBMITTED))
    return found
