"""Signing and refusing to sign, submission to the service centre, and an off-site
service's departure and return."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, BinaryIO

from archive.bootstrap import Archive
from archive.commands.common import (
    actor_and_context,
    apply_change,
    load_document,
    require_actor,
    require_reason,
)
from archive.commands.media import signature_check
from archive.errors import BadInput, Conflict, FieldProblem, Forbidden, ValidationFailed
from archive.kinds.deadlines import SubmitWithin, deadline_days, submit_deadline
from archive.kinds.fieldtypes import Context, Invalid, Mileage, StaffInfo
from archive.kinds.registry import Kind
from archive.kinds.roles import ROLE_LABELS
from archive.kinds.text import check_text
from archive.staff.permissions import (
    ATTACH,
    DEPART,
    SIGN_ON_BEHALF,
    SUBMIT,
    may_sign_on_behalf,
    require,
)
from events.document import Document
from events.document_state import SIGNATURE_SCAN_LABEL


def _signable_role(kind: Kind, role: str) -> None:
    if role not in kind.signers:
        needed = "、".join(ROLE_LABELS[r] for r in kind.signers)
        raise Forbidden(
            "role_not_required",
            f"{kind.label}不需要{ROLE_LABELS.get(role, role)}签字（需要：{needed}）",
            f"{kind.code} does not take a {role} signature",
        )


def _hold_role(person: StaffInfo, role: str, doing: str) -> None:
    if role not in person.roles:
        raise Forbidden(
            "role_not_held",
            f"{person.name}不是{ROLE_LABELS.get(role, role)}，不能以该身份{doing}",
            f"{person.username} does not hold the role {role}",
        )


def named_signers(kind: Kind, doc: Document, role: str) -> list[str]:
    """Usernames the form names in ``role`` (the order's technicians, its advisor)."""
    named: list[str] = []
    for code in kind.signer_fields(role):
        value = doc.fields.get(code)
        named.extend(value if isinstance(value, list) else [value] if value else [])
    return named


def _names(ctx: Context, usernames: list[str]) -> str:
    return "、".join(ctx.staff[u].name if u in ctx.staff else u for u in usernames)


def signer_identity(
    person: StaffInfo,
    kind: Kind,
    doc: Document,
    role: str,
    ctx: Context,
    on_behalf_of: str | None,
    on_behalf_reason: str | None,
    doing: str = "签字",
) -> tuple[str | None, str]:
    """Whom ``person`` signs for in ``role`` (``None``: himself) and why, or ``Forbidden``."""
    label = ROLE_LABELS.get(role, role)
    named = named_signers(kind, doc, role)
    deputies = "、".join(ROLE_LABELS[r] for r in SIGN_ON_BEHALF.get(role, ()))
    if on_behalf_of:
        why = require_reason(on_behalf_reason, "on_behalf_reason")
        target = ctx.find_staff(on_behalf_of)
        if not named:
            raise Forbidden(
                "no_named_signer",
                f"本{kind.label}没有写明{label}，不需要代签：由{label}本人直接签字",
                f"the {kind.code} names no {role}; sign in your own name",
            )
        if target is None or target.username not in named:
            raise Forbidden(
                "not_named_signer",
                f"{target.name if target else f'“{on_behalf_of}”'}不是本{kind.label}写明的{label}"
                f"（本单：{_names(ctx, named)}），"
                "不能代其签字",
                f"{on_behalf_of!r} is not a {role} this {kind.code} names",
            )
        if target.username == person.username:
            raise BadInput(
                "on_behalf_of_self",
                "不能代自己签字：请直接以本人身份签字",
                "you cannot sign on your own behalf",
            )
        if not may_sign_on_behalf(person, role):
            who = (
                f"只有{deputies}可以代签" if deputies else "任何人都不能代签，请修改单据写明签字人"
            )
            raise Forbidden(
                "not_permitted_on_behalf",
                f"{person.name}不能代{label}签字（{who}）",
                f"{person.username} may not sign for a {role}",
            )
        return target.username, why
    _hold_role(person, role, doing)
    if named and person.username not in named:
        deputy = f"；本人不能{doing}时，可由{deputies}代签并说明原因" if deputies else ""
        raise Forbidden(
            "not_named_signer",
            f"本{kind.label}的{label}是{_names(ctx, named)}，{person.name}不能以{label}身份"
            f"{doing}{deputy}",
            f"the {kind.code} names {', '.join(named)} as {role}, not {person.username}",
        )
    return None, ""


def sign_document(
    archive: Archive,
    kind_code: str,
    number: str,
    role: str,
    actor: str,
    *,
    customer_name: str | None = None,
    image_sha256: str | None = None,
    signature_image: BinaryIO | None = None,
    on_behalf_of: str | None = None,
    on_behalf_reason: str | None = None,
) -> Document:
    """Sign the current version in ``role``.

    Staff sign for themselves, in a role they hold, and only as the person the form names in
    that role when it names one (each named technician signs for himself); or, with
    ``on_behalf_of`` and a reason, for a named person who cannot sign, if the permission
    table lets them (``SIGN_ON_BEHALF``). The customer's signature is recorded by the
    person at the counter with its evidence: either ``signature_image``, the PNG drawn on the
    signature pad (stored and attached as a scan in the same commit), or ``image_sha256``, a
    scan of the signed paper slip already attached to this document.
    """
    person, ctx = actor_and_context(archive, actor)
    kind, doc = load_document(archive, kind_code, number)
    _signable_role(kind, role)
    if role != "customer":
        behalf, why = signer_identity(person, kind, doc, role, ctx, on_behalf_of, on_behalf_reason)
        return apply_change(
            archive,
            doc,
            lambda: doc.sign(
                role,
                person.username,
                actor,
                archive.now(),
                on_behalf_of=behalf,
                on_behalf_reason=why,
            ),
        )
    if on_behalf_of:
        raise BadInput(
            "customer_on_behalf",
            "客户签字不能代签：请让客户在签字板上签名，或附上客户已签字的纸质单据扫描件",
            "nobody signs for the customer",
        )
    require(person, ATTACH, kind)
    signer = (customer_name or str(doc.fields.get("customer_name") or "")).strip()[:40] or "客户"
    check_text(signer, "customer_name", "客户姓名")
    at = archive.now()
    if signature_image is not None:
        doc.check_sign(role, signer)  # before the image is stored: a refusal leaves no blob
        blob = archive.blobs.put_stream(signature_image, check=signature_check)

        def attach_and_sign() -> None:
            if doc.active_scan(blob.sha256) is None:
                doc.attach_scan(
                    blob.sha256, blob.media_type, blob.size, "", SIGNATURE_SCAN_LABEL, actor, at
                )
            doc.sign(role, signer, actor, at, image_sha256=blob.sha256)

        return apply_change(archive, doc, attach_and_sign)
    if not image_sha256 or doc.active_scan(image_sha256) is None:
        raise BadInput(
            "customer_signature_evidence",
            "客户签字需要在签字板上手写签名，或先附上客户已签字的纸质单据扫描件",
            "a customer signature needs a drawn signature or a scan of the signed slip "
            "attached to this document",
        )
    return apply_change(
        archive, doc, lambda: doc.sign(role, signer, actor, at, image_sha256=image_sha256)
    )


def refuse_signature(
    archive: Archive, kind_code: str, number: str, role: str, reason: str, actor: str
) -> Document:
    """Refuse to sign in ``role``, saying why (the service manager's worklist shows it).

    Refused by the person the form names in the role (or anyone in it when it names nobody),
    or by one who may sign on his behalf (the workshop lead refuses his technicians' work).
    A submitted claim goes back to unsubmitted in the same commit: it must be corrected and
    submitted again.
    """
    person, ctx = actor_and_context(archive, actor)
    text = require_reason(reason)
    kind, doc = load_document(archive, kind_code, number)
    _signable_role(kind, role)
    if not (named_signers(kind, doc, role) and may_sign_on_behalf(person, role)):
        signer_identity(person, kind, doc, role, ctx, None, None, doing="拒签")
    at = archive.now()

    def refuse() -> None:
        doc.refuse(role, text, actor, at)
        label = ROLE_LABELS.get(role, role)
        doc.withdraw_submission(f"{label}拒签，须更正后重新上报：{text}", actor, at)

    return apply_change(archive, doc, refuse)


def submit_claim(
    archive: Archive, kind_code: str, number: str, claim_no: str, actor: str
) -> Document:
    """Record that a claim went to the manufacturer's service centre, with its claim number.

    Refused until every required signature is on the current version and a scan of the paper
    is attached; a submission after the kind's deadline is recorded as late, with the deadline.
    """
    person = require_actor(archive, actor)
    kind, doc = load_document(archive, kind_code, number)
    if not kind.submittable:
        raise BadInput(
            "not_submittable", f"{kind.label}不需要上报服务中心", f"{kind.code} is not submitted"
        )
    require(person, SUBMIT, kind)
    claim = (claim_no or "").strip()
    if not claim or len(claim) > 40:
        raise ValidationFailed(
            [FieldProblem("claim_no", "请填写厂家索赔号（40 字以内）", "claim number is required")]
        )
    check_text(claim, "claim_no", "厂家索赔号")
    if doc.voided is None and doc.submission is None:
        ready_to_submit(kind, doc)
    at = archive.now()
    late, deadline = submission_deadline(archive, kind, doc, at)
    return apply_change(
        archive, doc, lambda: doc.submit(claim, actor, at, late=late, deadline=deadline)
    )


def ready_to_submit(kind: Kind, doc: Document) -> None:
    """Refuse a submission missing a signature on the current version or the paper's scan."""
    missing = doc.missing_roles(list(kind.signers))
    parts = []
    if missing:
        parts.append(f"{'、'.join(ROLE_LABELS[r] for r in missing)}尚未在当前版本上签字")
    if kind.scan_required and not doc.paper_scans():
        parts.append("尚未附纸质单据的扫描件")
    if parts:
        raise Conflict(
            "not_ready_to_submit",
            f"{kind.label} {doc.number} 还不能上报服务中心：{'；'.join(parts)}。请补齐后再上报",
            f"{doc.number} cannot be submitted yet: missing signatures "
            f"{', '.join(missing) or 'none'}"
            + ("; no scan" if kind.scan_required and not doc.paper_scans() else ""),
        )


def submission_deadline(
    archive: Archive, kind: Kind, doc: Document, at: datetime
) -> tuple[bool, date | None]:
    """Whether a submission at ``at`` is after the kind's deadline, and that deadline (a
    date on the dealership's calendar)."""
    business_date = doc.fields.get("business_date")
    for rule in kind.deadlines:
        if isinstance(rule, SubmitWithin) and isinstance(business_date, date):
            deadline = submit_deadline(
                business_date, deadline_days(rule, archive.settings.deadline_days)
            )
            return at.astimezone(archive.settings.tz).date() > deadline, deadline
    return False, None


# -- off-site service ----------------------------------------------------------------------


def _kilometres(raw: Any, field: str, required: bool) -> int | None:
    if raw is None or raw == "":
        if required:
            raise ValidationFailed(
                [FieldProblem(field, "请填写里程（km）", f"{field} is required")]
            )
        return None
    try:
        return Mileage().parse(raw, Context())
    except Invalid as error:
        raise ValidationFailed([FieldProblem(field, error.message_zh, error.message_en)]) from None


def depart(
    archive: Archive,
    number: str,
    actor: str,
    handheld_terminal_id: str | None = None,
    odometer_out: Any = None,
) -> Document:
    """The technicians leave on an off-site service: only after the clerk has signed the order
    (confirming the handheld terminal was taken)."""
    person = require_actor(archive, actor)
    kind, doc = load_document(archive, "offsite_service", number)
    require(person, DEPART, kind)
    terminal = (handheld_terminal_id or str(doc.fields.get("handheld_terminal_id") or "")).strip()
    if not terminal:
        raise ValidationFailed(
            [FieldProblem("handheld_terminal_id", "请填写手持机编号", "terminal id required")]
        )
    check_text(terminal, "handheld_terminal_id", "手持机编号")
    km = _kilometres(odometer_out, "odometer_out", required=False)
    return apply_change(archive, doc, lambda: doc.depart(terminal[:40], km, actor, archive.now()))


def return_trip(
    archive: Archive,
    number: str,
    actor: str,
    mileage_claimed: Any,
    mileage_verified: Any,
    odometer_in: Any = None,
) -> Document:
    """The technicians are back: the clerk records the verified mileage next to the claimed."""
    person = require_actor(archive, actor)
    kind, doc = load_document(archive, "offsite_service", number)
    require(person, DEPART, kind)
    problems = []
    values = {}
    for field, raw, required in (
        ("mileage_claimed", mileage_claimed, True),
        ("mileage_verified", mileage_verified, True),
        ("odometer_in", odometer_in, False),
    ):
        try:
            values[field] = _kilometres(raw, field, required)
        except ValidationFailed as failed:
            problems.extend(failed.problems)
    if problems:
        raise ValidationFailed(problems)
    return apply_change(
        archive,
        doc,
        lambda: doc.return_from_trip(
            values["odometer_in"],
            values["mileage_claimed"],
            values["mileage_verified"],
            actor,
            archive.now(),
        ),
    )
