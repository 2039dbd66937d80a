"""Filing a new document and amending one: forms generated from the kind registry.

A refused form comes back with every value as typed and the message next to each field;
nothing is saved until everything is right. A form opened "from" another paper
(``/file/warranty_claim?from=work_order:WO-0001``) starts with the shared fields filled in
(``commands.prefill``); a document whose link is refused may be filed with the reason the
write path asks for (``unlinked_reason``, ``further_reason``), offered next to the form.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from archive import commands, queries
from archive.errors import ArchiveError, BadInput, FieldProblem, ValidationFailed
from archive.kinds.registry import Kind, get_kind
from archive.kinds.validation import parse_fields
from archive.staff.permissions import AMEND, FILE, require
from web.auth import PageUser, archive_of
from web.errors import page_message
from web.forms import errors_by_field, form_to_data, form_values
from web.navigation import filable_kinds
from web.pages.common import fresh, staff_options
from web.templating import render

router = APIRouter()

NOT_SAVED = "有错误，请按提示修改后再提交；尚未存档。"
# The reasons the write path takes besides the fields (archive.commands.links).
REASONS = ("unlinked_reason", "further_reason")
SourceParam = Annotated[str, Query(alias="from", max_length=100)]


def document_url(kind: str, number: str) -> str:
    return f"/d/{kind}/{quote(number, safe='')}"


@router.get("/file")
def choose_kind(request: Request, user: PageUser) -> Response:
    return render(request, "file_choose.html", {"kinds": filable_kinds(user)})


@router.get("/file/{kind_code}")
def filing_form(
    request: Request, kind_code: str, user: PageUser, source: SourceParam = ""
) -> Response:
    kind = get_kind(kind_code)
    # Say so before anyone fills the form in: the write path would refuse it anyway.
    require(user, FILE, kind)
    if not source:
        return form_page(request, kind, {}, {}, status_code=200)
    source_kind, source_number = parse_source(source)
    try:
        values = commands.prefill(archive_of(request), kind.code, source_kind, source_number)
    except ArchiveError as error:
        return form_page(request, kind, {}, {}, error.http_status, page_message(error))
    return form_page(request, kind, values, {}, 200, source=(source_kind, source_number))


def parse_source(text: str) -> tuple[str, str]:
    """``work_order:WO-0001`` as (kind, number): the paper a new one is created from."""
    kind, _, number = text.partition(":")
    if not kind.strip() or not number.strip():
        raise BadInput(
            "bad_source",
            f"“{text[:60]}”不是“种类:单号”，例如 work_order:WO-0001",
            "from must be KIND:NUMBER, e.g. work_order:WO-0001",
        )
    return get_kind(kind.strip()).code, number.strip()


def form_page(
    request: Request,
    kind: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int,
    message: str | None = None,
    reasons: dict[str, str] | None = None,
    source: tuple[str, str] | None = None,
    draft: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "file_form.html",
        {
            "kind": kind,
            "values": values,
            "errors": errors,
            "staff_options": staff_options(archive_of(request)),
            "message": message,
            "reasons": reasons or {},
            "link_help": link_help(kind, errors, reasons or {}),
            "source": source and {"kind": get_kind(source[0]), "number": source[1]},
            "draft": draft,
        },
        status_code=status_code,
    )


def _source_again(text: str) -> tuple[str, str] | None:
    """The paper a refused form was created from, to say so again (nothing when unreadable:
    it only words the page)."""
    try:
        return parse_source(text) if text else None
    except ArchiveError:
        return None


def link_help(kind: Kind, errors: dict[str, str], reasons: dict[str, str]) -> dict[str, bool]:
    """Which link reasons the form offers (``unlinked``, ``further``) and whether to show them
    open: when a link was refused or a reason was already typed."""
    fields = {link.field for link in kind.links}
    refused = any(code.split(".", 1)[0] in fields for code in errors)
    return {
        "unlinked": bool(kind.links),
        "further": any(link.one_per_target for link in kind.links),
        "open": refused or any(reasons.values()) or any(code in errors for code in REASONS),
    }


def reasons_of(form: Any) -> dict[str, str]:
    """The link reasons typed in a form (empty ones left out)."""
    return {code: str(form.get(code) or "").strip() for code in REASONS if form.get(code)}


@router.post("/file/{kind_code}")
async def file_document(request: Request, kind_code: str, user: PageUser) -> Response:
    kind = get_kind(kind_code)
    form = await request.form()
    data = form_to_data(kind, form)
    reasons = reasons_of(form)
    source = _source_again(str(form.get("from") or ""))
    try:
        doc = commands.file_document(archive_of(request), kind.code, data, user.username, **reasons)
    except ValidationFailed as failed:
        errors = errors_by_field(failed.problems)
        return form_page(request, kind, data, errors, 422, NOT_SAVED, reasons, source)
    except ArchiveError as error:
        errors = {"number": error.message_zh} if error.code == "duplicate_number" else {}
        message = error.message_zh
        return form_page(request, kind, data, errors, error.http_status, message, reasons, source)
    fresh(request)
    return RedirectResponse(document_url(kind.code, doc.number) + "?filed=1", status_code=303)


@router.get("/d/{kind_code}/{number}/amend")
def amend_form(request: Request, kind_code: str, number: str, user: PageUser) -> Response:
    kind, doc = queries.get_document(archive_of(request), kind_code, number)
    require(user, AMEND, kind)  # before the form is filled in, as for filing
    values = form_values(kind, doc.fields, archive_of(request).settings.tz)
    return _amend_page(request, kind, number, doc.version, values, {}, 200)


def _amend_page(
    request: Request,
    kind: Any,
    number: str,
    version: int,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int,
    message: str | None = None,
    reason: str = "",
    reasons: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "amend_form.html",
        {
            "kind": kind,
            "number": number,
            "version": version,
            "values": values,
            "errors": errors,
            "reason": reason,
            "reasons": reasons or {},
            "link_help": link_help(kind, errors, reasons or {}),
            "staff_options": staff_options(archive_of(request)),
            "message": message,
        },
        status_code=status_code,
    )


@router.post("/d/{kind_code}/{number}/amend")
async def amend(request: Request, kind_code: str, number: str, user: PageUser) -> Response:
    archive = archive_of(request)
    kind, doc = queries.get_document(archive, kind_code, number)
    form = await request.form()
    data = form_to_data(kind, form)
    data.pop("number", None)
    reason = str(form.get("reason") or "")
    reasons = reasons_of(form)
    try:
        expected = int(str(form.get("expected_version")))
    except ValueError:
        expected = -1
    changes = _changed(kind, doc.fields, data, archive)
    try:
        if not changes:
            raise ValidationFailed([FieldProblem("data", "没有改动任何内容", "nothing changed")])
        commands.amend_document(
            archive, kind.code, number, changes, reason, expected, user.username, **reasons
        )
    except ValidationFailed as failed:
        errors = errors_by_field(failed.problems)
        message = (
            errors.pop("reason", None)
            or errors.pop("data", None)
            or "有错误，请按提示修改；尚未保存。"
        )
        return _amend_page(
            request, kind, number, expected, data, errors, 422, message, reason, reasons
        )
    except ArchiveError as error:
        return _amend_page(
            request,
            kind,
            number,
            expected,
            data,
            {},
            error.http_status,
            error.message_zh,
            reason,
            reasons,
        )
    fresh(request)
    return RedirectResponse(document_url(kind.code, number) + "?amended=1", status_code=303)


def _changed(
    kind: Any, current: dict[str, Any], data: dict[str, Any], archive: Any
) -> dict[str, Any]:
    """The raw values of the fields whose parsed value differs from the stored one."""
    ctx = commands.validation_context(archive)
    changes: dict[str, Any] = {}
    for spec in kind.fields:
        raw = data.get(spec.code)
        parsed, problems = parse_fields(kind, {spec.code: raw}, ctx, partial=True)
        if problems:
            changes[spec.code] = raw  # let the write path report it next to the field
        elif parsed.get(spec.code) != current.get(spec.code):
            changes[spec.code] = raw
    return changes
