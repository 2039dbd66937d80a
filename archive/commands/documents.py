"""Filing, amending, scanning and voiding documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO

from eventsourcing.persistence import IntegrityError

from archive.blobs import display_filename
from archive.bootstrap import Archive
from archive.commands.common import (
    actor_and_context,
    apply_change,
    load_document,
    require_actor,
    require_reason,
)
from archive.commands.media import scan_check
from archive.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from archive.kinds.registry import Kind, get_kind
from archive.kinds.text import check_text
from archive.kinds.validation import parse_fields, validate_document
from archive.staff.permissions import (
    AMEND,
    ATTACH,
    FILE,
    VOID,
    WITHDRAW_SCAN,
    require,
)
from events.document import Document

# -- documents -----------------------------------------------------------------------------


def duplicate_number(kind: Kind, number: str) -> Conflict:
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
        raise duplicate_number(kind, number) from None
    return doc


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
    label_text = check_text((label or "").strip()[:60], "label", "说明")
    blob = archive.blobs.put_stream(stream, check=scan_check(archive.settings.max_scan_pages))
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
