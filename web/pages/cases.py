"""What a document page shows of the papers around it: its flags with their reasons (未关联,
里程不符, 再次索赔, 代签, 上报逾期, 撤回上报), a work order's case file (every paper naming it),
and the papers that can be created from it ("新建三包索赔单（从此委托书）")."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import quote, urlencode

from archive.bootstrap import ReadModels
from archive.errors import NotFound
from archive.kinds.fieldtypes import StaffInfo
from archive.kinds.registry import Kind, get_kind
from archive.kinds.roles import ROLE_LABELS
from archive.queries.cases import case_file, created_from
from archive.queries.marks import flags_of
from archive.queries.search import FLAG_LABELS
from archive.staff.permissions import FILE
from web.navigation import can

# Flags the status badge already says: listing them again adds nothing.
SAID_BY_STATUS = {"submitted", "voided", "submission_due"}


def _when(moment: Any, tz: tzinfo) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return moment.isoformat() if isinstance(moment, date) else str(moment or "")


def flag_details(
    doc: Any, flags: list[str], names: dict[str, str], tz: tzinfo, today: date
) -> list[dict[str, Any]]:
    """Each flag of ``doc`` (the aggregate) with its label and what the auditor needs to know:
    the reason given, the difference found, who signed for whom."""
    details: dict[str, list[str]] = {flag: [] for flag in flags if flag not in SAID_BY_STATUS}
    for link in doc.links.values():
        target = link.get("target_number") or ""
        words = "；".join(filter(None, [link.get("detail"), link.get("reason")]))
        state = link.get("state")
        if state == "unlinked" and "unlinked" in details:
            details["unlinked"].append(f"{target + '：' if target else ''}原因：{words or '—'}")
        if state == "mileage_differs" and "mileage_mismatch" in details:
            details["mileage_mismatch"].append(link.get("detail") or "")
        if (link.get("further") or state == "further") and "further_claim" in details:
            details["further_claim"].append(
                f"原因：{link.get('reason') or '—'}（{link.get('detail') or target}）"
            )
    for s in doc.signatures:
        if s.on_behalf_of and "on_behalf" in details:
            details["on_behalf"].append(
                f"{names.get(s.signer, s.signer)} 代 {names.get(s.on_behalf_of, s.on_behalf_of)}"
                f" 以{ROLE_LABELS.get(s.role, s.role)}身份签字（第 {s.version} 版），"
                f"原因：{s.on_behalf_reason or '—'}"
            )
    if "late_submission" in details:
        sub = doc.submission
        if sub and sub.get("late"):
            details["late_submission"].append(
                f"{_when(sub['at'], tz)} 上报，截止日期 {_when(sub.get('deadline'), tz)}"
            )
        elif sub is None:
            details["late_submission"].append(f"已过上报截止日期，至今（{today}）尚未上报")
    for w in doc.withdrawn_submissions:
        if "submission_withdrawn" in details:
            details["submission_withdrawn"].append(
                f"索赔号 {w['claim_no']} 于 {_when(w['withdrawn_at'], tz)} 撤回："
                f"{w['withdrawn_reason']}"
            )
    return [
        {"code": flag, "label": FLAG_LABELS.get(flag, flag), "details": found}
        for flag, found in details.items()
    ]


def linked_fields(kind: Kind, doc: Any) -> dict[str, str]:
    """Fields naming another paper the archive holds, with that paper's address (a claim's
    委托书号 opens the work order); a paper filed unlinked names nothing to open."""
    found = {}
    for link in kind.links:
        kinds = link.target_kinds_for(doc.fields)
        number = doc.fields.get(link.field)
        recorded = doc.links.get(link.field) or {}
        if link.column is not None or not kinds or not number:
            continue
        if recorded.get("state") == "unlinked":
            continue
        target = recorded.get("target_kind") or kinds[0]
        found[link.field] = f"/d/{target}/{quote(str(number), safe='')}"
    return found


def create_offers(person: StaffInfo, kind: Kind, number: str) -> list[dict[str, str]]:
    """The papers ``person`` may create from this one, with the form's address."""
    offers = []
    for offer in created_from(kind.code):
        target = get_kind(offer["kind"])
        if not can(person, FILE, target):
            continue
        query = urlencode({"from": f"{kind.code}:{number}"})
        offers.append(
            {
                "kind": target.code,
                "label": f"新建{target.label}（从此{short_label(kind)}）",
                "url": f"/file/{target.code}?{query}",
            }
        )
    return offers


def short_label(kind: Kind) -> str:
    """How the buttons name the source paper: 维修委托书/修理单 is 委托书 at the counter."""
    return {"work_order": "委托书", "callback": "回访"}.get(kind.code, kind.label)


def surroundings(
    models: ReadModels,
    person: StaffInfo,
    kind: Kind,
    doc: Any,
    names: dict[str, str],
    tz: tzinfo,
    today: date,
) -> dict[str, Any]:
    """Flags with their reasons, the case file (work orders) and what can be created from the
    document, for its page."""
    models.runner.wait_for(timeout=2)  # the read models have the page's document
    flags = flags_of(models, kind.code, doc.number, today)
    case = None
    if kind.code == "work_order":
        try:
            case = case_file(models, doc.number, today)["documents"]
        except NotFound:  # the read models lag behind the store (a rebuild is running)
            case = []
    return {
        "flags": flag_details(doc, flags, names, tz, today),
        "case": case,
        "create": create_offers(person, kind, doc.number) if doc.voided is None else [],
        "linked": linked_fields(kind, doc),
    }
