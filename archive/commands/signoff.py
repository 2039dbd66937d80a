"""Signing and refusing to sign, submission to the service centre, and an off-site
service's departure and return."""

from __future__ import annotations

from typing import Any, BinaryIO

from archive.bootstrap import Archive
from archive.commands.common import (
    apply_change,
    load_document,
    require_actor,
    require_reason,
)
from archive.commands.media import signature_check
from archive.errors import BadInput, FieldProblem, Forbidden, ValidationFailed
from archive.kinds.fieldtypes import Context, Invalid, Mileage, StaffInfo
from archive.kinds.registry import Kind
from archive.kinds.roles import ROLE_LABELS
from archive.kinds.text import check_text
from archive.staff.permissions import (
    ATTACH,
    DEPART,
    SUBMIT,
    require,
)
from events.document import Document


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
) -> Document:
    """Sign the current version in ``role``.

    Staff sign for themselves, in a role they hold. The customer's signature is recorded by the
    person at the counter with its evidence: either ``signature_image``, the PNG drawn on the
    signature pad (stored and attached as a scan in the same commit), or ``image_sha256``, a
    scan of the signed paper slip already attached to this document.
    """
    person = require_actor(archive, actor)
    kind, doc = load_document(archive, kind_code, number)
    _signable_role(kind, role)
    if role != "customer":
        _hold_role(person, role, "签字")
        return apply_change(
            archive, doc, lambda: doc.sign(role, person.username, actor, archive.now())
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
                doc.attach_scan(blob.sha256, blob.media_type, blob.size, "", "客户签名", actor, at)
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
    """Refuse to sign in ``role``, saying why (the service manager's worklist shows it)."""
    person = require_actor(archive, actor)
    text = require_reason(reason)
    kind, doc = load_document(archive, kind_code, number)
    _signable_role(kind, role)
    _hold_role(person, role, "拒签")
    return apply_change(archive, doc, lambda: doc.refuse(role, text, actor, archive.now()))


def submit_claim(
    archive: Archive, kind_code: str, number: str, claim_no: str, actor: str
) -> Document:
    """Record that a claim went to the manufacturer's service centre, with its claim number."""
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
    return apply_change(archive, doc, lambda: doc.submit(claim, actor, archive.now()))


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
