"""The document page and what can be done from it: sign, refuse, scans, void, submit,
off-site departure and return, the customer's signature pad, history and earlier states."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse, RedirectResponse

from archive import commands, queries
from archive.bootstrap import Archive
from archive.errors import ArchiveError, BadInput
from archive.kinds.display import line_rows, value_text
from archive.kinds.fieldtypes import Lines
from archive.kinds.roles import ROLE_LABELS
from archive.queries.scans import served_scan
from archive.staff.permissions import AMEND, ATTACH, DEPART, SUBMIT, VOID, WITHDRAW_SCAN
from web.auth import PageUser, archive_of
from web.errors import page_message
from web.pages.cases import surroundings
from web.pages.common import can, fresh, models_of
from web.pages.filing import document_url
from web.pages.signing import signing_options, submission_gaps
from web.scan_reading import after_upload
from web.templating import render

router = APIRouter()

MAX_SIGNATURE_BYTES = 512 * 1024  # a drawn signature is a small PNG


@router.get("/d/{kind_code}/{number}")
def document_page(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    as_of: str | None = None,
    version: int | None = None,
) -> Response:
    return _page(request, kind_code, number, user, as_of=as_of, version=version)


def _page(
    request: Request,
    kind_code: str,
    number: str,
    user: Any,
    as_of: str | None = None,
    version: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    archive = archive_of(request)
    instant = queries.parse_instant(as_of) if as_of else None
    kind, doc = queries.get_document(archive, kind_code, number, version=version, as_of=instant)
    history = queries.history(archive, kind.code, number)
    view = queries.document_view(archive, kind, doc)
    names = queries.staff_names(archive)
    rows = []
    tz = archive.settings.tz  # moments typed in another zone, on the dealership's clock
    for spec in kind.fields:
        value = doc.fields.get(spec.code)
        if isinstance(spec.type, Lines):
            rows.append((spec, None, line_rows(spec, value or [], names, tz)))
        else:
            rows.append((spec, value_text(spec.type, value, names, tz), None))
    historical = doc.version != history[-1]["version"]
    today = archive.now().astimezone(tz).date()
    around = (
        None if historical else surroundings(models_of(request), user, kind, doc, names, tz, today)
    )
    missing = view["missing_roles"]
    return render(
        request,
        "document.html",
        {
            "kind": kind,
            "doc": doc,
            "view": view,
            "rows": rows,
            "history": history,
            "names": names,
            "historical": historical,
            "as_of": as_of or "",
            "signing": signing_options(archive, user, kind, doc, missing),
            "customer_missing": "customer" in missing,
            "around": around,
            "submission_gaps": submission_gaps(kind, doc, missing, names)
            if kind.submittable and doc.submission is None
            else None,
            "may": {
                "amend": can(user, AMEND, kind),
                "attach": can(user, ATTACH, kind),
                "withdraw": can(user, WITHDRAW_SCAN, kind),
                "void": can(user, VOID, kind),
                "submit": kind.submittable and can(user, SUBMIT, kind),
                "depart": kind.code == "offsite_service" and can(user, DEPART, kind),
            },
            "role_labels": ROLE_LABELS,
            "notice": None if error else _notice(request),
            "error": error,
            "open": not historical and doc.voided is None,
        },
        status_code=status_code,
    )


def _notice(request: Request) -> str | None:
    for flag, text in (
        ("filed", "已存档。"),
        ("amended", "已修改；此前的签字需要在新版本上重新签。"),
        ("signed", "已签字。"),
        ("done", "已保存。"),
    ):
        if request.query_params.get(flag):
            return text
    return None


def _back(kind: str, number: str, flag: str = "done") -> RedirectResponse:
    return RedirectResponse(f"{document_url(kind, number)}?{flag}=1", status_code=303)


def _refused(request: Request, user: Any, kind: str, number: str, error: ArchiveError) -> Response:
    """The document page again, with the refusal on top; the archive is unchanged."""
    message = page_message(error)
    return _page(request, kind, number, user, error=message, status_code=error.http_status)


def _act(
    request: Request,
    user: Any,
    kind: str,
    number: str,
    action: Callable[[Archive], object],
    flag: str = "done",
) -> Response:
    """Run one write-path command on the app's archive; refused, show why on the page."""
    try:
        action(archive_of(request))
    except ArchiveError as error:
        return _refused(request, user, kind, number, error)
    fresh(request)
    return _back(kind, number, flag)


@router.post("/d/{kind_code}/{number}/sign")
def sign(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    role: Annotated[str, Form()],
    on_behalf_of: Annotated[str, Form()] = "",
    on_behalf_reason: Annotated[str, Form()] = "",
) -> Response:
    """Sign in one's own name, or (代签) for the person the form names, with a reason."""
    return _act(
        request,
        user,
        kind_code,
        number,
        lambda archive: commands.sign_document(
            archive,
            kind_code,
            number,
            role,
            user.username,
            on_behalf_of=on_behalf_of or None,
            on_behalf_reason=on_behalf_reason or None,
        ),
        "signed",
    )


@router.post("/d/{kind_code}/{number}/customer-signature")
def customer_signature(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    signature_png: Annotated[str, Form()] = "",
    customer_name: Annotated[str, Form()] = "",
) -> Response:
    def sign_with_pad(archive: Archive) -> None:
        image = _data_url_png(signature_png)
        commands.sign_document(
            archive,
            kind_code,
            number,
            "customer",
            user.username,
            customer_name=customer_name or None,
            signature_image=io.BytesIO(image),
        )

    return _act(request, user, kind_code, number, sign_with_pad, "signed")


def _data_url_png(text: str) -> bytes:
    prefix = "data:image/png;base64,"
    if not text.startswith(prefix):
        raise BadInput("no_signature", "请先在签字板上签名", "draw the signature first")
    try:
        data = base64.b64decode(text.removeprefix(prefix), validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("bad_signature", "签名图片无法读取，请重签", "unreadable image") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise BadInput("signature_too_large", "签名图片过大", "signature image too large")
    return data


@router.post("/d/{kind_code}/{number}/refuse")
def refuse(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    role: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        user,
        kind_code,
        number,
        lambda archive: commands.refuse_signature(
            archive, kind_code, number, role, reason, user.username
        ),
    )


@router.post("/d/{kind_code}/{number}/scans")
async def upload_scan(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    scan: Annotated[UploadFile, File()],
    label: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        user,
        kind_code,
        number,
        lambda archive: after_upload(
            request.app.state,
            commands.attach_scan(
                archive, kind_code, number, scan.file, user.username, scan.filename, label
            ),
        ),
    )


@router.post("/d/{kind_code}/{number}/scans/{sha256}/withdraw")
def withdraw_scan(
    request: Request,
    kind_code: str,
    number: str,
    sha256: str,
    user: PageUser,
    reason: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        user,
        kind_code,
        number,
        lambda archive: commands.withdraw_scan(
            archive, kind_code, number, sha256, reason, user.username
        ),
    )


@router.post("/d/{kind_code}/{number}/void")
def void(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    reason: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        user,
        kind_code,
        number,
        lambda archive: commands.void_document(archive, kind_code, number, reason, user.username),
    )


@router.post("/d/{kind_code}/{number}/submit")
def submit(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    claim_no: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        user,
        kind_code,
        number,
        lambda archive: commands.submit_claim(archive, kind_code, number, claim_no, user.username),
    )


@router.post("/d/offsite_service/{number}/depart")
def depart(
    request: Request,
    number: str,
    user: PageUser,
    handheld_terminal_id: Annotated[str, Form()] = "",
    odometer_out: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        user,
        "offsite_service",
        number,
        lambda archive: commands.depart(
            archive, number, user.username, handheld_terminal_id or None, odometer_out or None
        ),
    )


@router.post("/d/offsite_service/{number}/return")
def return_trip(
    request: Request,
    number: str,
    user: PageUser,
    mileage_claimed: Annotated[str, Form()] = "",
    mileage_verified: Annotated[str, Form()] = "",
    odometer_in: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        user,
        "offsite_service",
        number,
        lambda archive: commands.return_trip(
            archive, number, user.username, mileage_claimed, mileage_verified, odometer_in or None
        ),
    )


@router.get("/scans/{sha256}")
def scan_file(request: Request, sha256: str, doc: str, user: PageUser) -> Response:
    """A scan, for preview: only when it is attached to the document named in ``doc``."""
    archive = archive_of(request)
    kind_code, _, number = doc.partition("/")
    _, document = queries.get_document(archive, kind_code, number)
    scan = served_scan(archive, sha256, document=document)
    suffix = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[scan.media_type]
    return FileResponse(
        scan.path,
        media_type=scan.media_type,
        filename=f"{number}-{sha256[:8]}.{suffix}",
        content_disposition_type="inline",
    )
