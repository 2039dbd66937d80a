"""Reading documents: current state, state at an earlier version or instant, and history.

Everything returned is plain data (JSON-ready, English keys) that the CLI, the pages and the
API present in their own way.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from archive.bootstrap import Archive, ReadModels
from archive.errors import BadInput, FieldProblem, NotFound, ValidationFailed
from archive.kinds.display import value_text
from archive.kinds.registry import Kind, get_kind
from archive.kinds.roles import ROLE_LABELS
from archive.queries.marks import flag_labels, flags_of, link_checks
from archive.queries.volumes import bound_document
from events.application import states
from events.canonical import plain
from events.document import Document

STATUS_LABELS = {
    "awaiting_signatures": "待签字",
    "complete": "已签齐",
    "submitted": "已上报",
    "voided": "已作废",
}

EVENT_LABELS = {
    "Filed": "存档",
    "Amended": "修改",
    "ScanAttached": "附扫描件",
    "ScanWithdrawn": "撤回扫描件",
    "Signed": "签字",
    "SignatureRefused": "拒签",
    "Voided": "作废",
    "Submitted": "上报服务中心",
    "Departed": "外出出发",
    "Returned": "外出返回",
    "SubmissionWithdrawn": "撤回上报",
    "LinksRecorded": "核对关联单据",
    "ScanRead": "识别扫描件",
}


def _not_found(kind: Kind, number: str, when: str = "") -> NotFound:
    return NotFound(
        "document_not_found",
        f"没有{kind.label} {number}{when}",
        f"no {kind.code} numbered {number!r}{' at that time' if when else ''}",
    )


def get_document(
    archive: Archive,
    kind_code: str,
    number: str,
    *,
    version: int | None = None,
    as_of: datetime | None = None,
) -> tuple[Kind, Document]:
    """The document now, at ``version``, or as it stood at the instant ``as_of``."""
    kind = get_kind(kind_code)
    doc_id = Document.create_id(kind.code, number)
    if version is not None and as_of is not None:
        raise BadInput("version_and_as_of", "版本和时间只能指定一个", "give a version or a time")
    if as_of is not None:
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=archive.settings.tz)
        if as_of.microsecond == 0:
            # Times are shown to the second: "as of 14:30:05" includes all of that second.
            as_of = as_of.replace(microsecond=999_999)
        doc = archive.app.replay(doc_id, until=as_of)
        if doc is None:
            raise _not_found(kind, number, f"（{as_of:%Y-%m-%d %H:%M} 时尚未存档）")
        return kind, doc
    if version is not None and not 1 <= version <= MAX_VERSION:
        raise _no_version(version)  # asked before the store, whose bigint it would overflow
    try:
        doc: Document = archive.app.repository.get(doc_id, version=version)
    except AggregateNotFoundError:
        raise _not_found(kind, number) from None
    if version is not None and doc.version != version:
        # The store answers "the latest version up to N": version 99 of a document with 3
        # would silently be version 3.
        raise _no_version(version)
    return kind, doc


MAX_VERSION = 2**62


def _no_version(version: int) -> NotFound:
    return NotFound(
        "version_not_found", f"该单据没有第 {version} 版", f"document has no version {version}"
    )


def parse_instant(text: str, field: str = "as_of") -> datetime:
    """A time as typed (``2026-11-03T14:30``, or with a blank for the ``T``); without a zone
    :func:`get_document` reads it as the dealership's local time."""
    try:
        return datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise ValidationFailed(
            [
                FieldProblem(
                    field,
                    f"“{text}”不是有效时间，请写成 2026-11-03T14:30",
                    f"{text!r} is not an ISO date-time",
                )
            ]
        ) from None


def parse_day(text: str, field: str = "day") -> date:
    """A day as typed (``2026-11-03``), or a problem naming ``field``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            [
                FieldProblem(
                    field,
                    f"日期“{text[:20]}”无效，请写成 2026-11-03",
                    f"{text[:20]!r} is not YYYY-MM-DD",
                )
            ]
        ) from None


def today(archive: Archive) -> date:
    """Today on the dealership's calendar."""
    return archive.now().astimezone(archive.settings.tz).date()


def local(archive: Archive, moment: datetime | None) -> str | None:
    """An instant in the dealership's zone, ISO format, to the second."""
    if moment is None:
        return None
    return moment.astimezone(archive.settings.tz).replace(microsecond=0).isoformat()


def staff_names(archive: Archive) -> dict[str, str]:
    """Username → full name, for everyone ever registered."""
    return {u: p.name for u, p in archive.staff.refresh().items()}


def staff_name(archive: Archive, username: str) -> str:
    person = archive.staff.refresh().get(username)
    return person.name if person else username


def document_view(archive: Archive, kind: Kind, doc: Document) -> dict[str, Any]:
    status = doc.status(list(kind.signers))
    current = {(s.role, s.signer, s.version) for s in doc.current_signatures()}
    names = staff_names(archive)  # read once: the directory checks the log on every read
    return {
        "id": str(doc.id),
        "kind": kind.code,
        "kind_label": kind.label,
        "number": doc.number,
        "version": doc.version,
        "status": status,
        "status_label": STATUS_LABELS[status],
        "business_date": plain(doc.fields.get("business_date")),
        "fields": {code: plain(value) for code, value in doc.fields.items()},
        "content_hash": doc.content_hash,
        "filed_by": doc.filed_by,
        "filed_by_name": names.get(doc.filed_by, doc.filed_by),
        "filed_at": local(archive, doc.filed_at),
        "modified_at": local(archive, doc.modified_on),
        "amendment_count": doc.amendment_count,
        "required_signers": list(kind.signers),
        "missing_roles": doc.missing_roles(list(kind.signers)),
        "signatures": [
            {
                "role": s.role,
                "role_label": ROLE_LABELS.get(s.role, s.role),
                "signer": s.signer,
                "signer_name": s.signer if s.role == "customer" else names.get(s.signer, s.signer),
                "signed_at": local(archive, s.signed_at),
                "version": s.version,
                "content_hash": s.content_hash,
                "image_sha256": s.image_sha256,
                "current": (s.role, s.signer, s.version) in current,
                **_on_behalf(s.on_behalf_of, s.on_behalf_reason, names),
            }
            for s in doc.signatures
        ],
        "links": link_checks(list(doc.links.values())),
        "refusals": [
            {
                "role": r.role,
                "signer": r.signer,
                "reason": r.reason,
                "refused_at": local(archive, r.refused_at),
                "version": r.version,
            }
            for r in doc.refusals
        ],
        "scans": [
            {
                "sha256": s.sha256,
                "media_type": s.media_type,
                "size": s.size,
                "filename": s.filename,
                "label": s.label,
                "attached_by": s.attached_by,
                "attached_at": local(archive, s.attached_at),
                "withdrawn": not s.active,
                "withdrawn_reason": s.withdrawn_reason,
                "withdrawn_at": local(archive, s.withdrawn_at),
            }
            for s in doc.scans
        ],
        "voided": _stamped(archive, doc.voided),
        "submission": _stamped(archive, doc.submission),
        "departure": _stamped(archive, doc.departure),
        "return_trip": _stamped(archive, doc.return_trip),
        "mileage_difference": doc.mileage_difference,
    }


def _on_behalf(on_behalf_of: str | None, reason: str, names: dict[str, str]) -> dict[str, Any]:
    """代签: the signer signed for the person the form names (``on_behalf_of``), saying why."""
    return {
        "on_behalf_of": on_behalf_of or None,
        "on_behalf_of_name": names.get(on_behalf_of, on_behalf_of) if on_behalf_of else None,
        "on_behalf_reason": reason if on_behalf_of else None,
    }


def view_of(archive: Archive, doc: Document) -> dict[str, Any]:
    """:func:`document_view` of a document just loaded or changed."""
    return document_view(archive, get_kind(doc.kind), doc)


def _stamped(archive: Archive, record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {**record, "at": local(archive, record["at"])}


def show(
    archive: Archive,
    kind_code: str,
    number: str,
    *,
    version: int | None = None,
    as_of: datetime | None = None,
    models: ReadModels | None = None,
) -> dict[str, Any]:
    """The document's view; with ``models``, the current document's flags as search and the
    case file give them (an earlier state has no flags of its own: ``flags`` is None)."""
    kind, doc = get_document(archive, kind_code, number, version=version, as_of=as_of)
    view = document_view(archive, kind, doc)
    if models is not None:
        earlier = version is not None or as_of is not None
        flags = None if earlier else flags_of(models, kind.code, doc.number, today(archive))
        view["flags"] = flags
        view["flag_labels"] = None if flags is None else flag_labels(flags)
    return view


def history(archive: Archive, kind_code: str, number: str) -> list[dict[str, Any]]:
    """Every event of a document, oldest first: who, when, what changed from what to what, why."""
    kind = get_kind(kind_code)
    events = list(archive.app.stored_events(Document.create_id(kind.code, number)))
    if not events:
        raise _not_found(kind, number)
    return history_of(kind, events, staff_names(archive), archive.settings.tz)


def history_of(
    kind: Kind, events: list[Any], names: dict[str, str], tz: tzinfo
) -> list[dict[str, Any]]:
    """:func:`history` of a document's events (domain events, oldest first), with staff names
    and the dealership's time zone given: a bundle's checker has these from the file alone."""
    entries = []
    before: dict[str, Any] = {}
    for event, doc in states(events):
        name = type(event).__name__
        actor = getattr(event, "actor", "")
        entry: dict[str, Any] = {
            "version": event.originator_version,
            "event": name,
            "event_label": EVENT_LABELS.get(name, name),
            "at": event.timestamp.astimezone(tz).replace(microsecond=0).isoformat(),
            "actor": actor,
            "actor_name": names.get(actor, actor),
            "reason": getattr(event, "reason", None),
        }
        if name in ("Filed", "Amended"):
            codes = event.fields if name == "Filed" else event.changes
            entry["changes"] = [
                {
                    "field": code,
                    "label": spec.label if spec else code,
                    "before": plain(before.get(code)),
                    "after": plain(doc.fields.get(code)),
                    # as people read them: staff by name, choices by label
                    "before_text": _text(spec, before.get(code), names, tz),
                    "after_text": _text(spec, doc.fields.get(code), names, tz),
                }
                for code in codes
                for spec in [kind.field(code)]
            ]
            entry["content_hash"] = doc.content_hash
        elif name == "Signed":
            entry["detail"] = {
                "role": event.role,
                "role_label": ROLE_LABELS.get(event.role, event.role),
                "signer": event.signer,
                "content_hash": event.content_hash,
                "image_sha256": event.image_sha256,
                **_on_behalf(event.on_behalf_of, event.on_behalf_reason, names),
            }
        elif name == "LinksRecorded":
            entry["detail"] = {"links": link_checks(event.links)}
        elif name == "SignatureRefused":
            entry["detail"] = {"role": event.role}
        elif name in ("ScanAttached", "ScanWithdrawn"):
            entry["detail"] = {
                "sha256": event.sha256,
                **(
                    {"media_type": event.media_type, "size": event.size, "filename": event.filename}
                    if name == "ScanAttached"
                    else {}
                ),
            }
        elif name == "Submitted":
            entry["detail"] = {"claim_no": event.claim_no}
        elif name == "Departed":
            entry["detail"] = {k: v for k, v in doc.departure.items() if k not in ("by", "at")}
        elif name == "Returned":
            entry["detail"] = {k: v for k, v in doc.return_trip.items() if k not in ("by", "at")}
        entries.append(entry)
        before = dict(doc.fields)  # taken before the next event changes the document
    return entries


def _text(spec: Any, value: Any, names: dict[str, str], tz: tzinfo) -> str:
    if spec is None:  # a field the kind no longer has
        return "—" if value is None else str(plain(value))
    return value_text(spec.type, value, names, tz)


def changes_since(
    archive: Archive, doc_id: UUID, version: int, content_hash: str
) -> dict[str, Any] | None:
    """How a document a bundle holds (at ``version``, with ``content_hash``) differs from the
    archive now; None when it does not.

    ``since``: the kinds of event after that version. ``missing``: the archive has no such
    document. ``behind``: the archive's document is older than the bundle's, and ``differs``:
    its content at that version is not the bundle's; both mean the archive lost or changed
    what it once signed (``archive verify`` says more).
    """
    try:
        now = bound_document(archive, doc_id)
    except NotFound:
        return {"missing": True}
    doc, kind = now.doc, now.kind
    row: dict[str, Any] = {
        "missing": False,
        "kind": kind.code,
        "kind_label": kind.label,
        "number": doc.number,
        "version": doc.version,
        "status_label": STATUS_LABELS[doc.status(list(kind.signers))],
        "behind": doc.version < version,
        "differs": False,
        "since": [],
    }
    if not row["behind"]:
        then = now.at(version).doc
        row["differs"] = then.content_hash != content_hash
        later = (type(e).__name__ for e in now.events[version:])
        row["since"] = list(dict.fromkeys(EVENT_LABELS.get(name, name) for name in later))
    changed = row["behind"] or row["differs"] or row["since"]
    return row if changed else None
