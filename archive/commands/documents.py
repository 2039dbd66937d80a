"""Filing, amending, scanning, voiding, signing and submitting documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from eventsourcing.persistence import IntegrityError

from archive.blobs import BlobRejected, display_filename
from archive.bootstrap import Archive
from archive.commands.common import (
    actor_and_context,
    apply_change,
    load_document,
    require_actor,
    require_reason,
)
from archive.errors import BadInput, Conflict, Forbidden, NotFound
from archive.kinds.registry import Kind, get_kind
from archive.kinds.roles import ROLE_LABELS
from archive.kinds.validation import (
    FieldProblem,
    ValidationFailed,
    parse_fields,
    validate_document,
)
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
    _, ctx = actor_and_context(archive, actor)
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
    _, ctx = actor_and_context(archive, actor)
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
    _, ctx = actor_and_context(archive, actor)
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
    require_actor(archive, actor)
    _, doc = load_document(archive, kind_code, number)
    if doc.voided is not None:
        raise Conflict("voided", f"{number} 已作废，不能再附扫描件", f"{number} is voided")
    try:
        blob = archive.blobs.put_stream(stream)
    except BlobRejected as error:
        raise BadInput(error.code, error.message_zh, error.message_en) from None
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


def withdraw_scan(
    archive: Archive, kind_code: str, number: str, sha256: str, reason: str, actor: str
) -> Document:
    require_actor(archive, actor)
    text = require_reason(reason)
    _, doc = load_document(archive, kind_code, number)
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
    require_actor(archive, actor)
    text = require_reason(reason)
    _, doc = load_document(archive, kind_code, number)
    return apply_change(archive, doc, lambda: doc.void(text, actor, archive.now()))


def sign_document(
    archive: Archive,
    kind_code: str,
    number: str,
    role: str,
    actor: str,
    *,
    customer_name: str | None = None,
    image_sha256: str | None = None,
) -> Document:
    """Sign the current version in ``role``.

    Staff sign for themselves, in a role they hold. The customer's signature is recorded by
    the staff member at the counter and must point at its evidence: a handwritten image or a
    scan of the signed paper slip, already stored.
    """
    person = require_actor(archive, actor)
    kind, doc = load_document(archive, kind_code, number)
    if role not in kind.signers:
        needed = "、".join(ROLE_LABELS[r] for r in kind.signers)
        raise Forbidden(
            "role_not_required",
            f"{kind.label}不需要{ROLE_LABELS.get(role, role)}签字（需要：{needed}）",
            f"{kind.code} does not take a {role} signature",
        )
    if role == "customer":
        if not image_sha256 or not archive.blobs.exists(image_sha256):
            raise BadInput(
                "customer_signature_evidence",
                "客户签字需要手写签名图片或已签字纸质单据的扫描件",
                "a customer signature needs a stored signature image or signed-slip scan",
            )
        signer = (customer_name or str(doc.fields.get("customer_name") or "")).strip() or "客户"
    else:
        if role not in person.roles:
            raise Forbidden(
                "role_not_held",
                f"{person.name}不是{ROLE_LABELS.get(role, role)}，不能以该身份签字",
                f"{person.username} does not hold the role {role}",
            )
        signer = person.username
    return apply_change(
        archive,
        doc,
        lambda: doc.sign(role, signer, actor, archive.now(), image_sha256=image_sha256),
    )


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
    if not ("clerk" in person.roles and person.registration_no):
        raise Forbidden(
            "clerk_not_registered",
            "只有已在服务中心备案的信息员可以上报三包索赔单",
            "only a clerk registered with the service centre may submit warranty claims",
        )
    claim = (claim_no or "").strip()
    if not claim or len(claim) > 40:
        raise ValidationFailed(
            [FieldProblem("claim_no", "请填写厂家索赔号（40 字以内）", "claim number is required")]
        )
    return apply_change(archive, doc, lambda: doc.submit(claim, actor, archive.now()))
