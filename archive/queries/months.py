"""A month at a glance, as the month page and ``archive month`` show it.

Counts per kind and status, the volumes sealed so far, what still keeps the next volume from
being sealed (in Chinese, naming kind, number and what is missing), and the sealed documents
that changed after their seal.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from archive.bootstrap import Archive
from archive.kinds.registry import KINDS, get_kind
from archive.kinds.roles import ROLE_LABELS
from archive.queries.documents import STATUS_LABELS, local, staff_names
from archive.queries.volumes import registry_order
from events.volume import volume_label
from projections.closing import UNSCANNED, UNSIGNED, UNSUBMITTED, Blocker
from projections.months import AMENDED, UPDATED, VOIDED, MonthDocument, MonthVolumes

CHANGE_LABELS = {
    AMENDED: "封存后内容已修改，卷内仍是封存时的版本",
    VOIDED: "封存后已作废",
    UPDATED: "封存后有补签、扫描件或上报（内容未变）",
}


def blocker_text(blocker: Blocker) -> str:
    """What is missing, in Chinese."""
    if blocker.code == UNSIGNED:
        return "缺少签字：" + "、".join(ROLE_LABELS.get(r, r) for r in blocker.roles)
    if blocker.code == UNSCANNED:
        return "缺少纸质原件扫描件"
    if blocker.code == UNSUBMITTED:
        return "尚未上报服务中心"
    return blocker.code


def blocker_view(blocker: Blocker, business_date: str | None = None) -> dict[str, Any]:
    """A blocker as pages and the CLI show it; ``business_date`` is its document's own date
    (a blocker knows only the document's id, kind and number)."""
    return {
        **blocker.as_dict(),
        "business_date": business_date,
        "kind_label": get_kind(blocker.kind).label,
        "missing_zh": blocker_text(blocker),
    }


def month_overview(archive: Archive, months: MonthVolumes, month: str) -> dict[str, Any]:
    """The month as plain data (English keys, Chinese labels); ``months`` is caught up."""
    documents = months.documents(month)
    current = [d for d in documents if d.month == month]
    names = staff_names(archive)
    volumes = months.volumes(month)
    pending = sorted(
        (d for d in current if not d.sealed), key=lambda d: registry_order(d.kind, d.number)
    )
    changed = sorted(
        (d for d in documents if d.sealed_month == month and d.changes_since_seal()),
        key=lambda d: registry_order(d.kind, d.number),
    )
    blockers = [blocker_view(b, d.business_date) for d in pending for b in d.blockers]
    return {
        "month": month,
        "documents": len(current),
        "kinds": _kind_counts(current),
        "volumes": [
            {
                "label": volume_label(v.month, v.supplement),
                "supplement": v.supplement,
                "sealed_at": local(archive, datetime.fromisoformat(v.sealed_at)),
                "sealed_by": v.sealed_by,
                "sealed_by_name": names.get(v.sealed_by, v.sealed_by),
                "documents": v.documents,
                "list_hash": v.list_hash,
                "forced_reason": v.forced_reason,
            }
            for v in volumes
        ],
        "next_volume": volume_label(month, len(volumes)),
        "pending": len(pending),
        "blockers": blockers,
        "ready_to_seal": bool(pending) and not blockers,
        "changed_since_seal": [_changed_view(d) for d in changed],
    }


def _kind_counts(documents: list[MonthDocument]) -> list[dict[str, Any]]:
    by_kind: dict[str, Counter[str]] = {}
    for d in documents:
        by_kind.setdefault(d.kind, Counter())[d.status] += 1
    return [
        {
            "kind": code,
            "label": KINDS[code].label,
            "total": sum(by_kind[code].values()),
            "by_status": [
                {"status": s, "label": STATUS_LABELS[s], "count": by_kind[code][s]}
                for s in STATUS_LABELS
                if by_kind[code][s]
            ],
        }
        for code in KINDS
        if code in by_kind
    ]


def _changed_view(d: MonthDocument) -> dict[str, Any]:
    changes = d.changes_since_seal()
    return {
        "doc_id": d.doc_id,
        "kind": d.kind,
        "kind_label": get_kind(d.kind).label,
        "number": d.number,
        "volume": volume_label(d.sealed_month or "", d.supplement or 0),
        "sealed_version": d.sealed_version,
        "sealed_hash": d.sealed_hash,
        "version": d.version,
        "changes": changes,
        "changes_zh": "；".join(CHANGE_LABELS[c] for c in changes),
    }
