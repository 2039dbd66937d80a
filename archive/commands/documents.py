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
from archive.commands.link_index import live_papers_naming
from archive.commands.links import check_links, link_guard, links_to_check
from archive.commands.media import scan_check
from archive.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from archive.kinds.registry import Kind, get_kind
from archive.kinds.text import check_text
from archive.kinds.validation import date_order_problems, parse_fields, validate_document
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
    archive: Archive,
    kind_code: str,
    data: Mapping[str, Any],
    actor: str,
    *,
    unlinked_reason: str | None = None,
    further_reason: str | None = None,
) -> Document:
    """File a new document. ``data`` holds ``number`` and the kind's fields.

    The papers it names are checked (``archive.commands.links``) and their state saved with it
    (``LinksRecorded``). ``unlinked_reason``: why a paper from before the system names nothing
    the archive holds; ``further_reason``: why a work order gets another warranty claim.
    """
    kind = get_kind(kind_code)
    person, ctx = actor_and_context(archive, actor)
    require(person, FILE, kind)
    fields = dict(data)
    number, values = validate_document(kind, fields.pop("number", None), fields, ctx)
    with link_guard(archive, kind):
        records = check_links(
            archive,
            kind,
            values,
            unlinked_reason=unlinked_reason,
            further_reason=further_reason,
            own_number=number,
        )
        at = archive.now()
        doc = Document.file(kind.code, number, values, actor, at)
        doc.record_links(records, actor, at)
        try:
            archive.app.save(doc)
        except IntegrityError:
            raise duplicate_number(kind, number) from None
    return doc


# Events that change nothing a person reads on the form: OCR reading a scan in the background
# (``archive ocr``) must not turn the form the clerk has open into a stale one.
_UNSEEN_EVENTS = (Document.ScanRead,)


def _changed_since(archive: Archive, doc: Document, seen_version: int) -> bool:
    """Whether ``doc`` changed in a way its reader would see after ``seen_version``."""
    if doc.version == seen_version:
        return False
    if not 1 <= seen_version < doc.version:
        return True
    later = archive.app.events.get(doc.id, gt=seen_version)
    return not all(isinstance(event, _UNSEEN_EVENTS) for event in later)


def amend_document(
    archive: Archive,
    kind_code: str,
    number: str,
    changes: Mapping[str, Any],
    reason: str,
    expected_version: int,
    actor: str,
    *,
    unlinked_reason: str | None = None,
    further_reason: str | None = None,
) -> Document:
    """Change some fields of a document, saying why, from the version the person saw.

    A changed link (or a field its checks read) is checked again and recorded in the same
    commit; a submitted claim that is amended goes back to unsubmitted (SubmissionWithdrawn):
    the corrected paper must be submitted again.
    """
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
    if _changed_since(archive, doc, expected_version):
        raise Conflict(
            "stale_version",
            f"单据已被修改（当前第 {doc.version} 版，您看到的是第 {expected_version} 版），"
            "请刷新后再改",
            f"version conflict: the document is at version {doc.version}, not {expected_version}",
        )
    merged = {**doc.fields, **values}
    if dates := date_order_problems(kind, merged, ctx.tz):
        raise ValidationFailed(dates)
    with link_guard(archive, kind):
        changed = {k for k, v in values.items() if doc.fields.get(k) != v}
        records: list[dict[str, Any]] = []
        if only := links_to_check(kind, changed):
            records = check_links(
                archive,
                kind,
                {k: v for k, v in merged.items() if v is not None},
                unlinked_reason=unlinked_reason,
                further_reason=further_reason,
                own_number=doc.number,
                only=only,
                recorded=doc.links,
            )
        at = archive.now()

        def amend() -> None:
            doc.amend(values, text, actor, at)
            doc.record_links(records, actor, at)
            doc.withdraw_submission(f"修改后须重新上报：{text}", actor, at)

        return apply_change(archive, doc, amend)


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
    # A voided paper named by a live one would show as linked (已关联) in its case file.
    if doc.voided is None and (naming := live_papers_naming(archive, kind.code, doc.number)):
        raise Conflict(
            "named_by_live_documents",
            f"{kind.label} {doc.number} 仍被以下单据关联，不能作废；"
            f"先作废或更正以下单据：{'、'.join(naming)}",
            f"{kind.code} {doc.number} is named by live documents: {', '.join(naming)}",
        )
    return apply_change(archive, doc, lambda: doc.void(text, actor, archive.now()))
