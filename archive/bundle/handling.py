"""The 办理记录 of a printed form: what happened to the paper besides its content.

Submissions to the service centre (late ones marked with their deadline, withdrawn ones with
why), refused signatures, signatures made on behalf of the person the form names (who, for
whom, why), and an off-site service order's trips. ``archive verify-bundle`` compares each row
with the replayed events like every other cell of the form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from archive.kinds.roles import ROLE_LABELS
from events.document import Document

Name = Callable[[str], str]
When = Callable[[datetime | None], str]


def handling_rows(doc: Document, name: Name, when: When) -> list[tuple[str, str]]:
    """(label, text) rows, in the order the form prints them."""
    rows = []
    for old in getattr(doc, "withdrawn_submissions", []):
        rows.append(
            (
                "上报服务中心（已撤回）",
                f"{_submission(old, name, when)}；{when(old['withdrawn_at'])} 撤回："
                f"{old['withdrawn_reason']}",
            )
        )
    if doc.submission:
        rows.append(("上报服务中心", _submission(doc.submission, name, when)))
    for refusal in getattr(doc, "refusals", []):
        rows.append(
            (
                "拒签",
                f"{ROLE_LABELS.get(refusal.role, refusal.role)} {name(refusal.signer)}："
                f"{refusal.reason}（{when(refusal.refused_at)}）",
            )
        )
    for s in doc.signatures:
        behalf = getattr(s, "on_behalf_of", None)
        if behalf:
            rows.append(
                (
                    "代签",
                    f"{name(s.signer)} 代 {name(behalf)} 签{ROLE_LABELS.get(s.role, s.role)}："
                    f"{s.on_behalf_reason}（{when(s.signed_at)}）",
                )
            )
    rows += _trips(doc, name, when)
    return rows


def _submission(sub: dict[str, Any], name: Name, when: When) -> str:
    late = f"，逾期上报（截止 {sub['deadline']}）" if sub.get("late") else ""
    return f"索赔号 {sub['claim_no']}（{name(sub['by'])}，{when(sub['at'])}）{late}"


def _trips(doc: Document, name: Name, when: When) -> list[tuple[str, str]]:
    rows = []
    departure = getattr(doc, "departure", None)
    if departure:
        odometer = departure.get("odometer_out")
        rows.append(
            (
                "出发",
                f"{when(departure['at'])}，手持机 {departure['handheld_terminal_id']}"
                + (f"，里程表 {odometer} km" if odometer is not None else "")
                + f"（{name(departure['by'])}）",
            )
        )
    trip = getattr(doc, "return_trip", None)
    if trip:
        odometer = trip.get("odometer_in")
        rows.append(
            (
                "返回",
                f"{when(trip['at'])}"
                + (f"，里程表 {odometer} km" if odometer is not None else "")
                + f"，申报外出里程 {trip['mileage_claimed']} km，"
                f"核实 {trip['mileage_verified']} km（{name(trip['by'])}）",
            )
        )
    return rows
