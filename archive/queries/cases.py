"""The case file of a work order (案卷): every document that names it, directly (claims,
diagnostic sheets, first-service vouchers, callbacks, daily reports listing it) or through one
that does (a quick-handling form names its callback), with number, kind, status, business date
and flags; and the kinds a new document may be created from it ("新建…（从此委托书）").

Read from the worklists projection's documents and links (``projections.cases``): links come
from the documents' link fields, so papers filed before links were recorded are in it too.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from archive.errors import NotFound
from archive.kinds.registry import KINDS, get_kind
from archive.queries.documents import STATUS_LABELS
from archive.queries.marks import LINK_STATE_LABELS, flag_labels, row_flags

if TYPE_CHECKING:
    from archive.bootstrap import ReadModels

# How far a case file follows documents naming documents: the order, the callback naming it,
# the quick-handling form naming the callback, and one more in case a kind is added.
MAX_DEPTH = 3


def _entry(row: dict[str, Any], catalog: Any, today: date) -> dict[str, Any]:
    flags = row_flags(row, catalog, today)
    return {
        "kind": row["kind"],
        "kind_label": get_kind(row["kind"]).label,
        "number": row["number"],
        "status": row["status"],
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "business_date": row["business_date"],
        "voided": bool(row["voided"]),
        "flags": flags,
        "flag_labels": flag_labels(flags),
    }


def created_from(kind: str) -> list[dict[str, str]]:
    """The kinds a new document may be created from a document of ``kind`` (their link to
    it copies the shared fields), in the registry's order."""
    offers = []
    for spec in KINDS.values():
        for link in spec.links:
            if link.column is None and kind in link.target_kinds and link.copies:
                offers.append({"kind": spec.code, "label": spec.label, "field": link.field})
                break
    return offers


def case_file(models: ReadModels, work_order_no: str, today: date) -> dict[str, Any]:
    """The work order and every document linked to it, by business date; ``today`` decides
    which unsubmitted claims are late. Voided documents are listed, marked voided."""
    worklists = models.worklists
    order = worklists.document("work_order", work_order_no)
    if order is None:
        raise NotFound(
            "document_not_found",
            f"没有维修委托书 {work_order_no}；请核对委托书号",
            f"no work_order numbered {work_order_no!r}",
        )
    catalog = worklists.catalog
    seen = {order["doc_id"]}
    documents: list[dict[str, Any]] = []
    frontier = [(order, None)]
    for _ in range(MAX_DEPTH):
        found = []
        for target, _through in frontier:
            for row in worklists.naming(target["kind"], target["number"]):
                if row["doc_id"] in seen:
                    continue
                seen.add(row["doc_id"])
                through = None if target is order else f"{target['kind']}:{target['number']}"
                documents.append(
                    {
                        **_entry(row, catalog, today),
                        "field": row["field"],
                        "link_state": row["state"],
                        "link_state_label": LINK_STATE_LABELS.get(row["state"], row["state"]),
                        # Linked through another document (a quick-handling form through its
                        # callback): that document as kind:number.
                        "through": through,
                    }
                )
                found.append((row, through))
        frontier = found
    documents.sort(key=lambda d: (d["business_date"] or "", d["kind"], d["number"]))
    return {
        "work_order": _entry(order, catalog, today),
        "documents": documents,
        "create": created_from("work_order"),
    }
