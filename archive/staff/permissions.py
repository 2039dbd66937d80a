"""Who may do what: the permission table, by role, checked in the write path.

Auditors read everything and change nothing (no action below names them). A refusal raises
``Forbidden`` with the reason; it is an answer, not an event, so nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.errors import Forbidden
from archive.kinds.fieldtypes import StaffInfo
from archive.kinds.registry import KINDS, Kind
from archive.kinds.roles import ROLE_LABELS


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    roles: tuple[str, ...] | None  # None: the kind's filers decide
    registered_clerk: bool = False  # a clerk must also hold a registration number


# Document actions that follow the kind's filers (kinds/registry.py ``filers``).
FILE = Action("file", "存档", None)
AMEND = Action("amend", "修改", None)
ATTACH = Action("attach", "附扫描件", None)
WITHDRAW_SCAN = Action("withdraw_scan", "撤回扫描件", None)
VOID = Action("void", "作废", None)
# Fixed roles.
SUBMIT = Action("submit", "上报服务中心", ("clerk",), registered_clerk=True)
DEPART = Action("depart", "登记外出/返回", ("clerk",))
SEAL = Action("seal", "封存月度卷", ("service_manager",))
MANAGE_STAFF = Action("manage_staff", "管理员工", ("admin",))
# Phoning or texting customers (maintenance reminders, holiday greetings) and writing down how
# it went: the clerk's list, and the advisors and their manager who own the customers.
CONTACT = Action(
    "contact",
    "登记保养提醒和节日问候结果",
    ("clerk", "service_advisor", "service_manager"),
)
# The desk tells the station head the month's service fee and files the invoice that comes back;
# the claims clerk keeps the claims it counts, and the manager may do it himself.
INVOICE = Action("invoice", "登记服务费发票", ("clerk", "claims_clerk", "service_manager"))
# Signing and refusing are allowed in a role the person holds, and only for the person the
# form names in that role when it names one (checked where they happen).

# Who may sign in a role for the person the form names there when he cannot sign himself
# (on leave, gone from the company), recording whom for and why: the workshop lead answers for
# his technicians' work, the service manager for his advisors'. Nobody signs for a sales
# consultant here (the sales department's manager holds no role in this archive): the form is
# amended to name the consultant who handed the car over. Roles a form does not name a person
# in (clerk, claims clerk, service manager) are signed by anyone holding them.
SIGN_ON_BEHALF: dict[str, tuple[str, ...]] = {
    "technician": ("workshop_lead",),
    "service_advisor": ("service_manager",),
}

ALL_ACTIONS = (
    FILE,
    AMEND,
    ATTACH,
    WITHDRAW_SCAN,
    VOID,
    SUBMIT,
    DEPART,
    SEAL,
    MANAGE_STAFF,
    CONTACT,
    INVOICE,
)


def roles_for(action: Action, kind: Kind | None = None) -> tuple[str, ...]:
    if action.roles is not None:
        return action.roles
    assert kind is not None, f"{action.code} needs a kind"
    if action is VOID:
        # The service manager voids any paper of his department (named once if he files it).
        return tuple(dict.fromkeys((*kind.filers, "service_manager")))
    return kind.filers


def require(person: StaffInfo, action: Action, kind: Kind | None = None) -> None:
    """Refuse ``person`` unless one of his roles allows ``action`` (on ``kind``)."""
    allowed = roles_for(action, kind)
    held = [r for r in person.roles if r in allowed]
    what = f"{action.label}{kind.label if kind else ''}"
    if not held:
        names = "、".join(ROLE_LABELS[r] for r in allowed)
        raise Forbidden(
            "not_permitted",
            f"{person.name}没有权限{what}（需要：{names}）",
            f"{person.username} may not {action.code} {kind.code if kind else ''}".strip()
            + f" (needs one of: {', '.join(allowed)})",
        )
    needs_registration = action.registered_clerk or (
        kind is not None and kind.registered_clerk_only
    )
    if needs_registration and held == ["clerk"] and not person.registration_no:
        raise Forbidden(
            "clerk_not_registered",
            f"{person.name}尚未在服务中心备案，不能{what}（三包单据只能由已备案的信息员处理）",
            f"{person.username} is not registered with the service centre",
        )


def may_sign_on_behalf(person: StaffInfo, role: str) -> bool:
    return any(r in person.roles for r in SIGN_ON_BEHALF.get(role, ()))


def permission_table() -> list[dict[str, object]]:
    """The table as built, one row per action (and kind where the kind decides)."""
    rows: list[dict[str, object]] = []
    for action in ALL_ACTIONS:
        if action.roles is not None:
            rows.append(
                {
                    "action": action.code,
                    "label": action.label,
                    "kind": None,
                    "roles": list(action.roles),
                    "registered_clerk": action.registered_clerk,
                }
            )
            continue
        for kind in KINDS.values():
            rows.append(
                {
                    "action": action.code,
                    "label": action.label,
                    "kind": kind.code,
                    "roles": list(roles_for(action, kind)),
                    "registered_clerk": kind.registered_clerk_only,
                }
            )
    rows.append(
        {
            "action": "sign / refuse",
            "label": "签字 / 拒签",
            "kind": None,
            "roles": [],  # any role, but only one the person holds
            "registered_clerk": False,
            "note_zh": "以本人所持的角色签字或拒签；单据写明了该角色的人时，只能由其本人签",
            "note_en": "in the role signed in, which the person must hold; where the form "
            "names the person in that role, only that person",
        }
    )
    for role, roles in SIGN_ON_BEHALF.items():
        rows.append(
            {
                "action": "sign_on_behalf",
                "label": f"代{ROLE_LABELS[role]}签字",
                "kind": None,
                "role": role,
                "roles": list(roles),
                "registered_clerk": False,
                "note_zh": f"代单据写明的{ROLE_LABELS[role]}签字，须说明原因",
                "note_en": f"for the {role} the form names, with a reason",
            }
        )
    return rows
