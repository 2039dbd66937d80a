"""The two bindings of a sealed volume, and the service-fee summary of the return binding.

**return** goes back to the manufacturer's service centre at month end: the warranty claims and
off-site service orders (voided ones stay home: they claim nothing), each with its signatures
and scans, then the month's service fees per submitted claim and in total, and the claims
sealed unsubmitted listed apart (未上报，不计入服务费用). Those are returned too: DOMAIN.md's
process 2 returns every paper slip of the month, and a sealed volume never changes, so a slip
kept home would never go back; the centre sees it unreported and pays nothing for it.
**full** is the dealer's own binder: every document of the volume, voided ones included,
marked as such.
Both list documents by kind (registry order), then number.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from archive.errors import BadInput
from archive.queries.volumes import BoundDocument, registry_order
from projections.fees import FEE_KIND, claim_fee

RETURN = "return"
FULL = "full"
BINDING_LABELS = {RETURN: "退回服务中心卷", FULL: "全月卷"}
# The paperwork the service centre takes back (DOMAIN.md, processes 1-3).
RETURN_KINDS = ("warranty_claim", "offsite_service")


def check_binding(binding: str) -> str:
    if binding not in BINDING_LABELS:
        raise BadInput(
            "unknown_binding",
            f"没有“{binding}”这种装订方式，可选：return（退回服务中心）、full（全月）",
            f"unknown binding {binding!r}; choose return or full",
        )
    return binding


def takes_kind(binding: str, kind_code: str) -> bool:
    """Whether ``binding`` binds documents of this kind at all."""
    return binding != RETURN or kind_code in RETURN_KINDS


def binds(binding: str, kind_code: str, voided: bool) -> bool:
    """Whether ``binding`` holds a sealed document of this kind, given whether it is voided (the
    rule ``archive verify-bundle`` applies again to the documents a manifest lists)."""
    return takes_kind(binding, kind_code) and not (binding == RETURN and voided)


def binding_documents(binding: str, documents: list[BoundDocument]) -> list[BoundDocument]:
    """The documents of ``binding``, by kind in registry order, then number."""
    check_binding(binding)
    held = [d for d in documents if binds(binding, d.kind.code, d.doc.voided is not None)]
    return sorted(held, key=lambda d: registry_order(d.kind.code, d.doc.number))


def left_out(binding: str, documents: list[BoundDocument]) -> list[BoundDocument]:
    """Documents of the kinds ``binding`` takes that it does not hold (voided claims left out
    of the return): the manifest proves why each is missing, so a removed one stands out."""
    check_binding(binding)
    out = [
        d
        for d in documents
        if takes_kind(binding, d.kind.code)
        and not binds(binding, d.kind.code, d.doc.voided is not None)
    ]
    return sorted(out, key=lambda d: registry_order(d.kind.code, d.doc.number))


@dataclass(frozen=True)
class FeeSummary:
    rows: list[dict[str, Any]]  # the submitted claims: counted
    total: Decimal
    unsubmitted: list[dict[str, Any]]  # listed apart, not counted

    def model(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "total": f"{self.total:.2f}",
            "count": len(self.rows),
            "unsubmitted": self.unsubmitted,
        }


def fee_summary(documents: list[BoundDocument]) -> FeeSummary:
    """Service fees (服务费用数额) of the warranty claims among ``documents``: only a claim
    reported to the service centre (submitted, with its claim number) is paid, so only those
    count; a claim sealed unsubmitted (a forced seal) is listed apart with its fee, not counted,
    for the centre to see which paper came back without a report."""
    rows, unsubmitted = [], []
    total = Decimal("0")
    for bound in documents:
        if bound.kind.code != FEE_KIND:
            continue
        doc = bound.doc
        fee = claim_fee(doc.fields)
        row = {
            "number": doc.number,
            "date": str(doc.fields.get("business_date", "")),
            "work_order_no": doc.fields.get("work_order_no") or "—",
            "vin": doc.fields.get("vin") or "—",
            "fee": f"{fee:.2f}",
        }
        if doc.submission:
            total += fee
            rows.append({**row, "claim_no": doc.submission["claim_no"]})
        else:
            unsubmitted.append(row)
    return FeeSummary(rows, total, unsubmitted)
