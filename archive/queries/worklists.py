"""Each person's worklist, computed from the worklists projection, the deadline rules and today.

Nothing here is stored: due and overdue follow from business dates, submissions, callbacks and
the configured number of days, so tomorrow's list is right without anyone touching it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from archive.config import Settings
from archive.errors import NotFound
from archive.kinds.deadlines import (
    FiledBefore,
    FollowUpWithin,
    SubmitWithin,
    deadline_days,
    submit_deadline,
)
from archive.kinds.fieldtypes import StaffInfo
from archive.kinds.registry import KINDS, get_kind
from archive.kinds.roles import ROLE_LABELS
from projections.worklists import ANYONE, CUSTOMER, Worklists

DONE_CALLBACK_OUTCOMES = {"reached", "refused", "wrong_number"}  # no answer: call again


def _entry(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    kind = get_kind(row["kind"])
    return {
        "kind": row["kind"],
        "kind_label": kind.label,
        "number": row["number"],
        "business_date": row["business_date"],
        **extra,
    }


def owner_label(owner: str, role: str, names: dict[str, str]) -> str:
    if owner.startswith(CUSTOMER):
        return f"客户 {owner.removeprefix(CUSTOMER) or ''}".strip()
    if owner == ANYONE:
        return f"任一{ROLE_LABELS.get(role, role)}"
    return names.get(owner, owner)


def waiting_for(person: StaffInfo, owed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What waits for this person's signature: named on the document, or anyone in his role."""
    mine = []
    for row in owed:
        if row["role"] not in person.roles:
            continue
        if row["owner"] in (person.username, ANYONE):
            # The customer tells the signer which document it is (one signs what he saw).
            mine.append(
                _entry(
                    row,
                    role=row["role"],
                    role_label=ROLE_LABELS[row["role"]],
                    customer=row.get("customer_name"),
                )
            )
    return mine


ANY_HOLDER = "*"  # owner key of "anyone holding the role": ANYONE is "", i.e. no filter at all


def owner_key(owner: str, role: str) -> str:
    """How a group of ``missing_by_person`` is named in a link (``/todo/missing?owner=KEY``):
    the owner himself, or ``*role`` for a signature anyone in the role may give. ANYONE is the
    empty string, which a link cannot tell from no filter; and "任一信息员" and "任一服务经理"
    are different groups though both are owed by ANYONE."""
    return ANY_HOLDER + role if owner == ANYONE else owner


def missing_by_person(
    owed: list[dict[str, Any]], names: dict[str, str], inactive: Collection[str] = ()
) -> list[dict[str, Any]]:
    """For the clerk who chases signatures: documents grouped by who owes them. A person in
    ``inactive`` (deactivated) cannot sign any more: his group says so, for the clerk to find
    someone else or have the manager decide."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in owed:
        key = owner_key(row["owner"], row["role"])
        label = owner_label(row["owner"], row["role"], names)
        groups[(key, label, row["owner"])].append(
            _entry(row, role=row["role"], role_label=ROLE_LABELS[row["role"]])
        )
    return [
        {
            "owner": owner,
            "key": key,
            "owner_label": label,
            "inactive": owner in inactive,
            "documents": docs,
        }
        for (key, label, owner), docs in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0][1]))
    ]


def claims_due(models: Worklists, settings: Settings, today: date) -> dict[str, list]:
    """Claims not submitted (due, or overdue: past the deadline), and those submitted after
    their deadline (the auditor asks why)."""
    due, overdue, submitted_late = [], [], []
    for kind in KINDS.values():
        for rule in kind.deadlines:
            if not isinstance(rule, SubmitWithin):
                continue
            days = deadline_days(rule, settings.deadline_days)
            for row in models.documents(kind.code):
                if not row["business_date"]:
                    continue
                deadline = submit_deadline(date.fromisoformat(row["business_date"]), days)
                entry = _entry(row, due=deadline.isoformat(), days_left=(deadline - today).days)
                if row["submitted"]:
                    if row["submitted_late"]:
                        submitted_late.append(entry)
                    continue
                (overdue if deadline < today else due).append(entry)
    return {
        "due": sorted(due, key=_by_due),
        "overdue": sorted(overdue, key=_by_due),
        "submitted_late": sorted(submitted_late, key=_by_due),
    }


def follow_ups(models: Worklists, settings: Settings, today: date) -> dict[str, list]:
    """Callbacks owed (3 days after a repair, 7 after a delivery): due today (or earlier and
    still open) and overdue. A callback naming the paper answers it once it reached the
    customer (or the customer refused, or the number was wrong); no answer: call again."""
    due_today, overdue = [], []
    for kind in KINDS.values():
        for rule in kind.deadlines:
            if not isinstance(rule, FollowUpWithin):
                continue
            days = deadline_days(rule, settings.deadline_days)
            done = {
                r["target_number"]
                for r in models.named_by_kind(rule.follow_up_kind, rule.link_field, kind.code)
                if r.get("outcome") in DONE_CALLBACK_OUTCOMES
            }
            for row in models.documents(kind.code):
                start = row.get(rule.from_field)
                if row["number"] in done or not start:
                    continue
                deadline = date.fromisoformat(start) + timedelta(days=days)
                entry = _entry(
                    row,
                    due=deadline.isoformat(),
                    label=rule.label,
                    customer=row["customer_name"],
                    phone=row.get("customer_phone"),  # the clerk makes the call from this list
                    plate=row.get("plate"),
                )
                if deadline == today:
                    due_today.append(entry)
                elif deadline < today:
                    overdue.append(entry)
    return {"due_today": due_today, "overdue": sorted(overdue, key=_by_due)}


def problems_open(models: Worklists) -> list[dict[str, Any]]:
    """Callbacks where the customer had a problem, until a quick-handling form naming the
    callback is closed and signed (its one signer is the service manager: ``complete``):
    the clerk and the service manager follow them up."""
    forms: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # The registry says which field of a quick-handling form names its callback.
    for link in get_kind("quick_handling").links:
        if "callback" in link.target_kinds:
            for form in models.named_by_kind("quick_handling", link.field, "callback"):
                forms[form["target_number"]].append(form)
    open_ = []
    for row in models.documents("callback"):
        linked = forms.get(row["number"], [])
        if not row["problem"] or any(f["closed"] and f["status"] == "complete" for f in linked):
            continue
        open_.append(
            _entry(
                row,
                customer=row["customer_name"],
                phone=row.get("customer_phone"),
                quick_handling=[f["number"] for f in linked],  # not yet closed and signed
            )
        )
    return open_


def filed_late(models: Worklists) -> list[dict[str, Any]]:
    """Documents filed after the date they had to be filed by (a PDI sheet after delivery)."""
    late = []
    for kind in KINDS.values():
        for rule in kind.deadlines:
            if not isinstance(rule, FiledBefore):
                continue
            for row in models.documents(kind.code):
                limit = row.get("delivery_date") if rule.field == "delivery_date" else None
                if limit and row["filed_date"] and row["filed_date"] > limit:
                    late.append(_entry(row, due=limit, filed=row["filed_date"]))
    return late


def _at(stamp: str, tz: tzinfo) -> str:
    """A stored instant (ISO, UTC) as the dealership's clock showed it."""
    return datetime.fromisoformat(stamp).astimezone(tz).replace(microsecond=0).isoformat()


def offsite_out(models: Worklists, tz: tzinfo) -> list[dict[str, Any]]:
    return [
        _entry(r, departed_at=_at(r["departed_at"], tz))
        for r in models.documents("offsite_service")
        if r["departed_at"] and not r["returned_at"]
    ]


def mileage_differences(models: Worklists) -> list[dict[str, Any]]:
    return [
        _entry(r, difference_km=r["mileage_difference"])
        for r in models.documents("offsite_service")
        if r["mileage_difference"]
    ]


def return_repairs(models: Worklists) -> list[dict[str, Any]]:
    rows = models.documents("quick_handling") + models.documents("work_order")
    return [
        _entry(r, status=r["status"])
        for r in rows
        if r["return_repair"] and not (r["kind"] == "quick_handling" and r["closed"])
    ]


def worklist(
    models: Worklists,
    settings: Settings,
    person: StaffInfo,
    names: dict[str, str],
    today: date,
    inactive: Collection[str] = (),
) -> dict[str, Any]:
    """Everything that waits for ``person``, in sections by what he does (``inactive``: the
    usernames of deactivated staff, marked where they still owe a signature)."""
    # A clerk sees every owed signature (grouped by who owes it); others only their own.
    clerk = "clerk" in person.roles
    owed = models.owed() if clerk else models.owed((person.username, ANYONE), person.roles)
    result: dict[str, Any] = {
        "staff": person.username,
        "name": person.name,
        "roles": list(person.roles),
        "today": today.isoformat(),
        "waiting_for_my_signature": waiting_for(person, owed),
    }
    if clerk:
        result["missing_signatures"] = missing_by_person(owed, names, inactive)
        result["warranty_claims"] = claims_due(models, settings, today)
        result["callbacks"] = follow_ups(models, settings, today)
        result["offsite_out"] = offsite_out(models, settings.tz)
        result["filed_late"] = filed_late(models)
    if clerk or "service_manager" in person.roles:
        result["customer_problems"] = problems_open(models)
    if "service_manager" in person.roles:
        result["refused_signatures"] = [
            _entry(
                r,
                role=r["role"],
                role_label=ROLE_LABELS[r["role"]],
                refused_by=names.get(r["refused_by"], r["refused_by"]),
                reason=r["reason"],
                refused_at=_at(r["refused_at"], settings.tz),
            )
            for r in models.refusals()
        ]
        result["return_repairs"] = return_repairs(models)
        result["mileage_differences"] = mileage_differences(models)
    return result


# The worklist's sections as flat lists of entries, in the order the dashboard shows them: the
# dashboard shows the first few of each and links to the whole list (``section_entries``).
SECTIONS: dict[str, tuple[str, Callable[[dict[str, Any]], list[dict[str, Any]]]]] = {
    "waiting": ("等我签字", lambda t: t["waiting_for_my_signature"]),
    "claims": (
        "三包索赔单上报",
        lambda t: [*t["warranty_claims"]["overdue"], *t["warranty_claims"]["due"]],
    ),
    "claims_late": ("逾期上报的三包索赔单", lambda t: t["warranty_claims"]["submitted_late"]),
    "callbacks": ("回访", lambda t: [*t["callbacks"]["due_today"], *t["callbacks"]["overdue"]]),
    "customer_problems": ("客户问题待处理", lambda t: t["customer_problems"]),
    "offsite": ("外出未归", lambda t: t["offsite_out"]),
    "missing": (
        "缺签",
        lambda t: [
            {
                **e,
                "owner": g["owner"],
                "key": g["key"],
                "owner_label": g["owner_label"],
                "inactive": g["inactive"],
            }
            for g in t["missing_signatures"]
            for e in g["documents"]
        ],
    ),
    "filed_late": ("迟交的 PDI 检查单", lambda t: t["filed_late"]),
    "refused": ("拒签", lambda t: t["refused_signatures"]),
    "return_repairs": ("返修", lambda t: t["return_repairs"]),
    "mileage": ("外出里程差异", lambda t: t["mileage_differences"]),
}


def section_entries(todo: dict[str, Any], section: str) -> tuple[str, list[dict[str, Any]]]:
    """One section of ``worklist()`` in full, with its label; a section this person's
    worklist does not have (or no such section) is not found."""
    try:
        label, entries = SECTIONS[section]
        return label, entries(todo)
    except KeyError:
        raise NotFound(
            "no_such_worklist", "您的工作台没有这个清单", f"no worklist {section!r} for you"
        ) from None


def find_person(staff: dict[str, StaffInfo], who: str) -> StaffInfo:
    person = staff.get(who) or next((p for p in staff.values() if p.name == who), None)
    if person is None:
        raise NotFound("staff_not_found", f"没有员工“{who}”", f"no staff member {who!r}")
    return person


def _by_due(entry: dict[str, Any]) -> tuple[str, str]:
    return (entry["due"], entry["number"])
