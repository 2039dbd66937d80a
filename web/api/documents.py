"""Documents: file, read (now, at a version, as of a time), history, amend, void, sign, refuse,
submit. Each change is one call of the write path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from archive import commands, queries
from archive.bootstrap import Archive
from archive.errors import FieldProblem, ValidationFailed
from web.api.cases import Source, parse_source
from web.api.deps import ArchiveDep, ReadModelsDep
from web.api.models import (
    MAX_VERSION,
    Amendment,
    Reason,
    RefusalRequest,
    SignatureRequest,
    SubmissionRequest,
)
from web.api.multipart import StreamedForm, body_puller
from web.api.routing import ApiRoute
from web.api.schema import REASON, AsOf, KindCode, SubmittableKind, says
from web.auth import ApiUser

router = APIRouter(route_class=ApiRoute, tags=["documents 单据"])

DOC = "/documents/{kind}/{number}"
WORK_ORDER_EXAMPLE = {
    "number": "WO-0001",
    "business_date": "2026-11-03",
    "vin": "LSVAM4188C2184825",
    "plate": "京A12345",
    "model": "大众朗逸",
    "mileage_km": 12345,
    "customer_name": "张三",
    "customer_phone": "13800138000",
    "service_advisor": "王强",
    "technicians": "李师傅",
    "fault_description": "制动时有异响",
    "labour_lines": [{"description": "更换前刹车片", "hours": "1.5", "amount": "150"}],
}
SIGNATURE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SignatureRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["role", "signature_image"],
                    "properties": {
                        "role": {"type": "string", "enum": ["customer"]},
                        "customer_name": {"type": "string"},
                        "signature_image": {"type": "string", "format": "binary"},
                    },
                }
            },
        },
    }
}


view = queries.view_of
LinkReason = Annotated[
    str | None,
    Query(description="why the link cannot be checked / why a further claim", **says(**REASON)),
]


@router.post(
    "/documents/{kind}",
    status_code=201,
    summary="存档 / file a document",
    description="`from=KIND:NUMBER`: start from the fields that paper gives (the body's "
    "values over them). A link the archive cannot check (a paper from before the system) "
    "needs `unlinked_reason`; a further warranty claim on one work order `further_reason`; "
    "both are recorded and flagged.",
    responses={201: {"headers": {"Location": {"description": "the new document"}}}},
)
def file_document(
    kind: KindCode,
    data: Annotated[
        dict[str, Any],
        Body(
            description="`number` and the kind's fields (see /kinds/{kind})",
            openapi_examples={"work_order": {"value": WORK_ORDER_EXAMPLE}},
        ),
    ],
    request: Request,
    response: Response,
    user: ApiUser,
    archive: ArchiveDep,
    source: Source = None,
    unlinked_reason: LinkReason = None,
    further_reason: LinkReason = None,
) -> dict[str, Any]:
    values = commands.prefill(archive, kind, *parse_source(source)) if source else {}
    values.update(data)
    doc = commands.file_document(
        archive,
        kind,
        values,
        user.username,
        unlinked_reason=unlinked_reason,
        further_reason=further_reason,
    )
    response.headers["Location"] = request.app.url_path_for(
        "show_document", kind=doc.kind, number=doc.number
    )
    return view(archive, doc)


@router.get(
    DOC,
    summary="查看单据 / a document now, at a version, or as of a time",
    description="With its signatures (`on_behalf_of`: 代签, who signed for whom and why), its "
    "link checks (`links`: state, reason, detail) and, for the document now, its `flags` "
    "(null for an earlier state).",
)
def show_document(
    kind: KindCode,
    number: str,
    archive: ArchiveDep,
    models: ReadModelsDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    as_of: AsOf = None,
) -> dict[str, Any]:
    instant = queries.parse_instant(as_of) if as_of else None
    return queries.show(archive, kind, number, version=version, as_of=instant, models=models)


@router.get(DOC + "/history", summary="修改记录 / every change: who, when, what, why")
def history(kind: KindCode, number: str, archive: ArchiveDep) -> list[dict[str, Any]]:
    return queries.history(archive, kind, number)


@router.patch(DOC, summary="修改 / amend fields, with a reason, from the version you saw")
def amend(
    kind: KindCode, number: str, body: Amendment, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    doc = commands.amend_document(
        archive,
        kind,
        number,
        body.changes,
        body.reason,
        body.expected_version,
        user.username,
        unlinked_reason=body.unlinked_reason,
        further_reason=body.further_reason,
    )
    return view(archive, doc)


@router.post(DOC + "/void", summary="作废 / void, with a reason")
def void(
    kind: KindCode, number: str, body: Reason, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    return view(archive, commands.void_document(archive, kind, number, body.reason, user.username))


@router.post(
    DOC + "/signatures",
    summary="签字 / sign the current version",
    description="Staff sign in a role they hold, as the person the form names in it (JSON); "
    "`on_behalf_of` (a username the form names) with `on_behalf_reason` signs for him, if "
    "the permission table lets the caller (`sign_on_behalf` in /permissions). The "
    "customer's signature is recorded with its evidence: JSON `image_sha256` of the signed "
    "slip's scan on this document, or "
    "multipart with the drawn `signature_image` (PNG) after `role` and `customer_name`.",
    openapi_extra=SIGNATURE_BODY,
)
async def sign(
    kind: KindCode, number: str, request: Request, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("multipart/"):
        return await run_in_threadpool(_sign_drawn, request, archive, kind, number, user.username)
    body = _signature_request(await request.json())
    doc = await run_in_threadpool(
        commands.sign_document,
        archive,
        kind,
        number,
        body.role,
        user.username,
        customer_name=body.customer_name,
        image_sha256=body.image_sha256,
        on_behalf_of=body.on_behalf_of,
        on_behalf_reason=body.on_behalf_reason,
    )
    return view(archive, doc)


def _sign_drawn(
    request: Request, archive: Archive, kind: str, number: str, actor: str
) -> dict[str, Any]:
    """The customer's drawn signature, streamed from the upload into the blob store."""
    form = StreamedForm(body_puller(request), request.headers["content-type"])
    if form.fields.get("role") != "customer":
        raise ValidationFailed(
            [FieldProblem("role", "签名图片只用于客户签字", "a drawn signature is the customer's")]
        )
    doc = commands.sign_document(
        archive,
        kind,
        number,
        "customer",
        actor,
        customer_name=form.fields.get("customer_name"),
        signature_image=form.require_file("signature_image"),
    )
    return view(archive, doc)


def _signature_request(data: Any) -> SignatureRequest:
    """The JSON body, read by hand (the endpoint also takes multipart), with FastAPI's errors."""
    try:
        return SignatureRequest.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from None


@router.post(DOC + "/refusals", summary="拒签 / refuse to sign, saying why")
def refuse(
    kind: KindCode, number: str, body: RefusalRequest, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    doc = commands.refuse_signature(archive, kind, number, body.role, body.reason, user.username)
    return view(archive, doc)


@router.post(DOC + "/submission", summary="上报服务中心 / record the submission of a claim")
def submit(
    kind: SubmittableKind, number: str, body: SubmissionRequest, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    doc = commands.submit_claim(archive, kind, number, body.claim_no, user.username)
    return view(archive, doc)
