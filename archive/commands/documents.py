"""Filing, amending, scanning, voiding, signing and submitting documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from eventsourcing.persistence import IntegrityError

from archive.blobs import BlobRejected, StoredBlob, display_filename
from archive.bootstrap import Archive
from archive.commands.common import (
    actor_and_context,
    apply_change,
    load_document,
    require_actor,
    require_reason,
)
from archive.errors import BadInput, Conflict, Forbidden, NotFound
from archive.kinds.fieldtypes import Context, Invalid, Mileage, StaffInfo
from archive.kinds.registry import Kind, get_kind
from archive.kinds.roles import ROLE_LABELS
from archive.kinds.validation import (
    FieldProblem,
    ValidationFailed,
    parse_fields,
    validate_document,
)
from archive.permissions import AMEND, ATTACH, DEPART, FILE, SUBMIT, VOID, WITHDRAW_SCAN, require
from events.document import Document

# -- documents -----------------------------------------------------------------------------


def _duplicate(kind: Kind, number: str) -> Conflict:
    return Conflict(
        "duplicate_number",
        f"{kind.label} {number} 已经存档，不能重复存档；如需更正请用“修改”",
        f"{kind.code} {number} is already filed; amend it instead",
    )


def file_document(
    archive: Archive, kind_code: str, data: Mapping[str, Any], actor: str
) -> Document:
    """File a new document. ``data`` holds ``number`` and the kind's fields."""
    kind = get_kind(kind_code)
    person, ctx = actor_and_context(archive, actor)
    require(person, FILE, kind)
    fields = dict(data)
    number, values = validate_document(kind, fields.pop("number", None), fields, ctx)
    doc = Document.file(kind.code, number, values, actor, archive.now())
    try:
        archive.app.save(doc)
    except IntegrityError:
        raise _duplicate(kind, number) from None
    return doc


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    message_zh: str
    message_en: str


class ImportFailed(BadInput):
    """Problems in a batch, each with its line; nothing of the batch was filed."""

    def __init__(self, problems: list[RowProblem]) -> None:
        first = problems[0]
        super().__init__(
            "import_failed",
            f"导入失败：共 {len(problems)} 处问题，第 {first.line} 行 {first.message_zh}；"
            "整个文件都没有导入",
            f"import failed with {len(problems)} problems; nothing was filed",
        )
        self.problems = problems


def file_batch(
    archive: Archive,
    kind_code: str,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    actor: str,
) -> list[Document]:
    """File many documents atomically: all of them, or none if any row is bad.

    ``rows`` pairs each row with the line number it is reported under.
    """
    kind = get_kind(kind_code)
    person, ctx = actor_and_context(archive, actor)
    require(person, FILE, kind)
    problems: list[RowProblem] = []
    docs: list[Document] = []
    lines_of: dict[str, int] = {}
    at = archive.now()
    for line, data in rows:
        fields = dict(data)
        try:
            number, values = validate_document(kind, fields.pop("number", None), fields, ctx)
        except ValidationFailed as failed:
            problems.extend(
                RowProblem(line, p.field, p.message_zh, p.message_en) for p in failed.problems
            )
            continue
        if number in lines_of:
            problems.append(
                RowProblem(
                    line,
                    "number",
                    f"{kind.number_label} {number} 与第 {lines_of[number]} 行重复",
                    f"number {number} repeats line {lines_of[number]}",
                )
            )
            continue
        lines_of[number] = line
        docs.append(Document.file(kind.code, number, values, actor, at))
    if problems:
        raise ImportFailed(problems)
    if not docs:
        raise ImportFailed([RowProblem(0, "", "文件中没有数据行", "the file holds no rows")])
    try:
        archive.app.save(*docs)
    except IntegrityError:
        existing = [d for d in docs if d.id in archive.app.repository]
        raise ImportFailed(
            [
                RowProblem(
                    lines_of[d.number],
                    "number",
                    f"{kind.label} {d.number} 已经存档",
                    f"{kind.code} {d.number} is already filed",
                )
                for d in existing
            ]
            or [RowProblem(0, "", "与同时进行的存档冲突，请重试", "concurrent filing; retry")]
        ) from None
    return docs


def amend_document(
    archive: Archive,
    kind_code: str,
    number: str,
    changes: Mapping[str, Any],
    reason: str,
    expected_version: int,
    actor: str,
) -> Document:
    """Change some fields of a document, saying why, from the version the person saw."""
    kind = get_kind(kind_code)
    person, ctx = actor_and_context(archive, actor)
    require(person, AMEND, kind)
    text = require_reason(reason)
    if "number" in changes:
        raise ValidationFailed(
            [FieldProblem("number", "单号不能修改；请作废后重新存档", "the number cannot change")]
        )
    if not changes:
        raise ValidationFailed([FieldProblem("data", "没有要修改的内容", "no changes given")])
    values, problems = parse_fields(kind, changes, ctx, partial=True)
    if problems:
        raise ValidationFailed(problems)
    kind, doc = load_document(archive, kind.code, number)
    if doc.version != expected_version:
        raise Conflict(
            "stale_version",
            f"单据已被修改（当前第 {doc.version} 版，您看到的是第 {expected_version} 版），"
            "请刷新后再改",
            f"version conflict: the document is at version {doc.version}, not {expected_version}",
        )
    return apply_change(archive, doc, lambda: doc.amend(values, text, actor, archive.now()))


def attach_scan(
    archive: Archive,
    kind_code: str,
    number: str,
    stream: BinaryIO,
    actor: str,
    filename: str | None = None,
    label: str = "",
) -> Document:
    """Store a scan (PDF, JPEG, PNG) and attach it to a document."""
    person = require_actor(archive, actor)
    kind, doc = load_document(archive, kind_code, number)
    require(person, ATTACH, kind)
    if doc.voided is not None:
        raise Conflict("voided", f"{number} 已作废，不能再附扫描件", f"{number} is voided")
    blob = _store(archive, stream)
    label_text = (label or "").strip()[:60]
    return apply_change(
        archive,
        doc,
        lambda: doc.attach_scan(
            sha256=blob.sha256,
            media_type=blob.media_type,
            size=blob.size,
            filename=display_filename(filename),
            label=label_text,
            actor=actor,
            at=archive.now(),
        ),
    )


def _store(archive: Archive, stream: BinaryIO) -> StoredBlob:
    try:
        return archive.blobs.put_stream(stream)
    except BlobRejected as error:
        raise BadInput(error.code, error.message_zh, error.message_en) from None


def withdraw_scan(
    archive: Archive, kind_code: str, number: str, sha256: str, reason: str, actor: str
) -> Document:
    person = require_actor(archive, actor)
    text = require_reason(reason)
    kind, doc = load_document(archive, kind_code, number)
    require(person, WITHDRAW_SCAN, kind)
    matches = [s for s in doc.active_scans() if s.sha256.startswith(sha256.lower())]
    if len(matches) != 1 or len(sha256) < 8:
        raise NotFound(
            "no_such_scan",
            "找不到该扫描件（请给出至少 8 位 SHA-256 前缀）",
            "no single active scan matches (give at least 8 hex characters)",
        )
    target = matches[0].sha256
    return apply_change(archive, doc, lambda: doc.withdraw_scan(target, text, actor, archive.now()))


def void_document(
    archive: Archive, kind_code: str, number: str, reason: str, actor: str
) -> Document:
    person = require_actor(archive, actor)
    text = require_reason(reason)
    kind, doc = load_document(archive, kind_code, number)
    require(person, VOID, kind)
    return apply_change(archive, doc, lambda: doc.void(text, actor, archive.now()))


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
    at = archive.now()
    if signature_image is not None:
        blob = _store(archive, signature_image)
        if blob.media_type != "image/png":
            raise BadInput(
                "signature_not_png", "签名图片应为 PNG", "the drawn signature must be a PNG"
            )

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
