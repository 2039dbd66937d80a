"""The write path's link rules: checking what a document names when it is filed or amended,
and the values a new document takes from the paper it is created from.

Targets are loaded from the event store by their id (``Document.create_id(kind, number)``),
which is strongly consistent. The one rule that needs more than the target, one warranty claim
per work order, asks ``archive.commands.link_index`` for the order's claims (followed from the
log up to its head) under a lock held until the new claim is saved: a file lock in
``$ARCHIVE_HOME``, or PostgreSQL's advisory lock when the events live there (servers on several
machines share no home). Two clerks filing a claim for one order at once take turns, and the
second sees the first's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from archive.bootstrap import Archive
from archive.commands.common import (
    UNLINKED_HINT,
    load_document,
    load_target,
    require_reason,
)
from archive.commands.daily_report import check_lines
from archive.commands.link_index import live_documents_naming
from archive.errors import BadInput, Conflict, FieldProblem, ValidationFailed
from archive.kinds.links import (
    FURTHER,
    MILEAGE_DIFFERS,
    OK,
    UNLINKED,
    Link,
    compare_with_target,
    link_record,
    prefill_values,
)
from archive.kinds.registry import Kind, get_kind
from archive.locks import one_at_a_time


def optional_reason(reason: str | None, field: str) -> str:
    """A reason the caller may give (unlinked, further claim): checked when given."""
    return require_reason(reason, field) if reason and reason.strip() else ""


@contextmanager
def link_guard(archive: Archive, kind: Kind) -> Iterator[None]:
    """Held around checking and saving a document of ``kind``: a kind with a one-per-target
    link takes the home's claims lock (the check reads claims another process may be saving)."""
    if not any(link.one_per_target for link in kind.links):
        yield
        return
    with one_at_a_time(archive.settings, "claims", archive.app.recorder):
        yield


def check_links(
    archive: Archive,
    kind: Kind,
    values: Mapping[str, Any],
    *,
    unlinked_reason: str | None = None,
    further_reason: str | None = None,
    own_number: str | None = None,
    only: set[str] | None = None,
    recorded: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The link records of a document with ``values`` (all its typed fields), or
    :class:`ValidationFailed` naming each field to correct. ``only``: the link fields to check
    (an amendment checks those whose watched fields changed); ``recorded``: the links the
    document holds, whose reasons carry over while their target stays the same."""
    unlinked = optional_reason(unlinked_reason, "unlinked_reason")
    further = optional_reason(further_reason, "further_reason")
    records: list[dict[str, Any]] = []
    problems: list[FieldProblem] = []
    for link in kind.links:
        if only is not None and link.field not in only:
            continue
        gone, more = _reasons(recorded, link, values, unlinked, further)
        if link.column is not None:
            record, found = check_lines(archive, link, values, gone, own_number)
        else:
            record, found = _check_link(archive, kind, link, values, gone, more, own_number)
        problems.extend(found)
        if record is not None:
            records.append(record)
    if problems:
        raise ValidationFailed(problems)
    return records


def _reasons(
    recorded: Mapping[str, Mapping[str, Any]] | None,
    link: Link,
    values: Mapping[str, Any],
    unlinked: str,
    further: str,
) -> tuple[str, str]:
    """The unlinked and further reasons a link is checked with: those given, else those it
    was recorded with while it names the same target (amending other fields of an unlinked or
    further claim does not ask for its reason again)."""
    earlier = (recorded or {}).get(link.field) or {}
    target = None if link.column else values.get(link.field)
    if not earlier or earlier.get("target_number") != target:
        return unlinked, further
    kept = earlier.get("reason", "")
    return (
        unlinked or (kept if earlier.get("state") == UNLINKED else ""),
        further or (kept if earlier.get("further") else ""),
    )


def _check_link(
    archive: Archive,
    kind: Kind,
    link: Link,
    values: Mapping[str, Any],
    unlinked: str,
    further: str,
    own_number: str | None,
) -> tuple[dict[str, Any] | None, list[FieldProblem]]:
    kinds = link.target_kinds_for(values)
    if not kinds:
        return None, []  # a complaint's number: no kind to check it against yet
    labels = "或".join(get_kind(k).label for k in kinds)
    field_label = kind.field(link.field).label if kind.field(link.field) else link.field
    number = values.get(link.field)
    if not number:
        if not link.is_required(values):
            return None, []
        if unlinked:
            return link_record(link, _one(kinds), None, UNLINKED, unlinked), []
        return None, [
            FieldProblem(
                link.field,
                f"请填写{field_label}（{labels}的单号）" + UNLINKED_HINT,
                f"{link.field} is required (the {'/'.join(kinds)} this refers to), "
                "or give an unlinked reason",
            )
        ]
    number = str(number)
    found = next(
        ((k, doc) for k in kinds if (doc := load_target(archive, k, number)) is not None), None
    )
    if found is None:
        if unlinked:
            detail = f"系统中没有{labels} {number}"
            return link_record(link, _one(kinds), number, UNLINKED, unlinked, detail), []
        return None, [
            FieldProblem(
                link.field,
                f"没有{labels} {number}，请核对单号" + UNLINKED_HINT,
                f"no {'/'.join(kinds)} numbered {number!r}; check the number, "
                "or give an unlinked reason",
            )
        ]
    target_kind, target = found
    target_label = get_kind(target_kind).label
    if target.voided is not None:
        return None, [
            FieldProblem(
                link.field,
                f"{target_label} {number} 已作废，不能关联；请核对单号",
                f"{target_kind} {number} is voided",
            )
        ]
    agreeing = {code: spec.label for code in link.agrees if (spec := kind.field(code))}
    problems, detail = compare_with_target(
        link, values, target_label, number, target.fields, agreeing
    )
    if problems:
        return None, problems
    state = MILEAGE_DIFFERS if detail else OK
    record = link_record(link, target_kind, number, state, detail=detail)
    if link.one_per_target:
        others = [
            n
            for n in live_documents_naming(archive, kind.code, link.field, number)
            if n != own_number
        ]
        if others and not further:
            return None, [
                FieldProblem(
                    link.field,
                    f"{target_label} {number} 已有{kind.label} {'、'.join(others)}；"
                    f"一张委托书只报一张{kind.label}，如确需追加请填写追加原因",
                    f"{target_kind} {number} already has {kind.code} {', '.join(others)}; "
                    "a further one needs a further reason",
                )
            ]
        if others:
            # A mileage difference outranks "further" as the state; the flag stays in "further".
            record.update(state=state if detail else FURTHER, reason=further, further=True)
            record["detail"] = "；".join(
                filter(None, [detail, f"同一委托书已有 {'、'.join(others)}"])
            )
    return record, []


def _one(kinds: tuple[str, ...]) -> str | None:
    return kinds[0] if len(kinds) == 1 else None


def links_to_check(kind: Kind, changed: set[str]) -> set[str]:
    """The link fields an amendment changing ``changed`` must check again."""
    return {link.field for link in kind.links if link.watched_fields() & changed}


# -- creating a document from another -------------------------------------------------------


def prefill(
    archive: Archive, kind_code: str, source_kind: str, source_number: str
) -> dict[str, Any]:
    """The values of a new ``kind_code`` document created from ``source_kind``
    ``source_number`` (a claim from its work order): the link field, the fields it copies,
    and today's date where the new paper's date is not the source's. No number: the person
    gives it."""
    kind = get_kind(kind_code)
    source = get_kind(source_kind)
    link = kind.link_from(source.code)
    if link is None:
        raise BadInput(
            "cannot_create_from",
            f"{kind.label}不能从{source.label}新建",
            f"a {kind.code} is not created from a {source.code}",
        )
    _, doc = load_document(archive, source.code, source_number)
    if doc.voided is not None:
        raise Conflict(
            "voided",
            f"{source.label} {source_number} 已作废，不能据此新建{kind.label}",
            f"{source.code} {source_number} is voided",
        )
    values = prefill_values(link, source.code, doc.number, doc.fields)
    if kind.field("business_date") is not None and "business_date" not in values:
        values["business_date"] = archive.now().astimezone(archive.settings.tz).date().isoformat()
    return {code: values[code] for code in _field_order(kind, values)}


def _field_order(kind: Kind, values: Mapping[str, Any]) -> list[str]:
    return [f.code for f in kind.fields if f.code in values]


__all__ = [
    "FURTHER",
    "MILEAGE_DIFFERS",
    "OK",
    "UNLINKED",
    "check_links",
    "link_guard",
    "links_to_check",
    "prefill",
]
