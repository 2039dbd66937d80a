"""What the sign and submit parts of a document page offer a person, asked of the write path's
own rules so the page never offers what it would refuse:

- sign in his own name where the form names him in the role (or names nobody);
- 代签 for a person the form names, with a reason, when the permission table lets him
  (``SIGN_ON_BEHALF``: the workshop lead for technicians, the manager for advisors);
- why he may not sign in a role he holds (the form names someone else);
- before 上报: what is still missing (who has not signed, the scan) instead of a late refusal.
"""

from __future__ import annotations

from typing import Any

from archive.bootstrap import Archive
from archive.commands.common import actor_and_context
from archive.commands.signoff import named_signers, ready_to_submit, signer_identity
from archive.errors import ArchiveError
from archive.kinds.fieldtypes import StaffInfo
from archive.kinds.registry import Kind
from archive.kinds.roles import ROLE_LABELS
from archive.staff.permissions import may_sign_on_behalf


def signing_options(
    archive: Archive, user: StaffInfo, kind: Kind, doc: Any, missing: list[str]
) -> dict[str, Any]:
    """``direct``: roles he signs in himself; ``behalf``: roles he may sign for a named person
    (with the people); ``blocked``: roles he holds but may not sign here, and why;
    ``refusable``: roles he may refuse."""
    person, ctx = actor_and_context(archive, user.username)
    names = {u: p.name for u, p in ctx.staff.items()}
    direct: list[str] = []
    behalf: list[dict[str, Any]] = []
    blocked: list[dict[str, str]] = []
    for role in missing:
        if role == "customer":
            continue
        named = named_signers(kind, doc, role)
        if role in person.roles:
            try:
                signer_identity(person, kind, doc, role, ctx, None, None)
                direct.append(role)
            except ArchiveError as error:
                blocked.append({"role": role, "message": error.message_zh})
        others = [u for u in named if u != person.username]
        if others and may_sign_on_behalf(person, role):
            behalf.append({"role": role, "people": [(u, names.get(u, u)) for u in others]})
    refusable = list(dict.fromkeys([*direct, *(b["role"] for b in behalf)]))
    return {"direct": direct, "behalf": behalf, "blocked": blocked, "refusable": refusable}


def submission_gaps(
    kind: Kind, doc: Any, missing: list[str], names: dict[str, str]
) -> dict[str, Any] | None:
    """Why the claim cannot be submitted yet (the write path's words) and who owes each
    missing signature; ``None`` when it can be."""
    try:
        ready_to_submit(kind, doc)
    except ArchiveError as error:
        owed = []
        for role in missing:
            named = named_signers(kind, doc, role) if role != "customer" else []
            who = "、".join(names.get(u, u) for u in named) or (
                "请客户在签字板上签名，或附客户已签字的纸质单据扫描件"
                if role == "customer"
                else f"任一{ROLE_LABELS.get(role, role)}"
            )
            owed.append({"role_label": ROLE_LABELS.get(role, role), "who": who})
        scan = kind.scan_required and not doc.paper_scans()
        return {"message": error.message_zh, "owed": owed, "scan_missing": scan}
    return None
