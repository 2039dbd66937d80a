"""Month end: the volumes of a month, what blocks closing, sealing, and the PDF bundles."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from archive import commands, queries
from archive.bundle.bindings import BINDING_LABELS
from archive.bundle.pipeline import print_document
from archive.errors import ArchiveError, NotFound
from archive.kinds.registry import get_kind
from archive.queries.months import month_overview
from archive.queries.volumes import parse_month
from archive.staff.permissions import SEAL
from web.auth import PageUser, archive_of
from web.errors import page_message
from web.jobs import BundleJob, BundleJobs
from web.pages.common import can, fresh, models_of
from web.templating import render

router = APIRouter()


def jobs_of(request: Request) -> BundleJobs:
    return request.app.state.bundle_jobs


def previous_month(today: date) -> str:
    return f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"


@router.get("/months")
def months_index(request: Request, user: PageUser, month: str = "") -> Response:
    archive = archive_of(request)
    chosen = month or previous_month(archive.now().astimezone(archive.settings.tz).date())
    return RedirectResponse(f"/months/{chosen}", status_code=303)


def _page(
    request: Request,
    user: object,
    month: str,
    error: str | None = None,
    status_code: int = 200,
    job: str | None = None,
) -> Response:
    archive = archive_of(request)
    models = models_of(request)
    models.runner.wait_for(timeout=3)
    overview = month_overview(archive, models.months, month)
    claims = claims_apart(models.months, month)
    bundle_job = jobs_of(request).get(job) if job else None  # a check's id shows no bundle
    return render(
        request,
        "month.html",
        {
            "m": overview,
            "claims": claims,
            "month": month,
            "error": error,
            "bindings": BINDING_LABELS,
            "may_seal": can(user, SEAL),  # type: ignore[arg-type]
            "get_kind": get_kind,
            "job": bundle_job if isinstance(bundle_job, BundleJob) else None,
            "notice": "已封存。" if request.query_params.get("sealed") else None,
        },
        status_code=status_code,
    )


def claims_apart(months: Any, month: str) -> dict[str, list[dict[str, Any]]]:
    """The month's claims not submitted now (left out of the fee summary) and those submitted
    after their deadline: the month page lists both apart from the counts."""

    def entry(d: Any) -> dict[str, Any]:
        return {
            "kind": d.kind,
            "kind_label": get_kind(d.kind).label,
            "number": d.number,
            "business_date": d.business_date,
            "status": d.status,
        }

    late = [d for d in months.documents(month) if d.month == month and d.late_submission]
    return {
        "unsubmitted": [entry(d) for d in months.unsubmitted(month)],
        "late": [entry(d) for d in late],
    }


@router.get("/months/{month}")
def month_page(request: Request, month: str, user: PageUser, job: str = "") -> Response:
    return _page(request, user, parse_month(month), job=job)


@router.post("/months/{month}/seal")
def seal(
    request: Request, month: str, user: PageUser, force_reason: Annotated[str, Form()] = ""
) -> Response:
    archive = archive_of(request)
    month = parse_month(month)
    try:
        commands.seal_month(archive, month, user.username, force_reason or None)
    except ArchiveError as error:
        return _page(request, user, month, page_message(error), error.http_status)
    fresh(request)
    return RedirectResponse(f"/months/{month}?sealed=1", status_code=303)


@router.post("/months/{month}/bundles")
def make_bundle(
    request: Request,
    month: str,
    user: PageUser,
    binding: Annotated[str, Form()],
    supplement: Annotated[int, Form()] = 0,
) -> Response:
    month = parse_month(month)
    if binding not in BINDING_LABELS:
        raise NotFound("unknown_binding", "没有这种装订方式", "unknown binding")
    job = jobs_of(request).start(month, supplement, binding)
    return RedirectResponse(f"/months/{month}?job={job.id}", status_code=303)


@router.get("/jobs/{job_id}")
def job_status(request: Request, job_id: str, user: PageUser) -> Response:
    job = jobs_of(request).get(job_id)  # a bundle started on any server, or a check here
    if job is None:
        raise NotFound("no_such_job", "没有这个任务", "no such job")
    return JSONResponse(job.as_dict())  # with the finished work's url once done


@router.get("/months/{month}/bundles/{supplement}/{binding}.pdf")
def download_bundle(
    request: Request, month: str, supplement: int, binding: str, user: PageUser
) -> Response:
    month = parse_month(month)
    if binding not in BINDING_LABELS:
        raise NotFound("unknown_binding", "没有这种装订方式", "unknown binding")
    path = jobs_of(request).bundle_file(month, supplement, binding)  # made on any server
    if path is None or not path.is_file():
        raise NotFound("bundle_not_made", "这个装订卷还没有生成", "bundle not made yet")
    suffix = f"-补{supplement}" if supplement else ""
    name = f"{month}{suffix}-{BINDING_LABELS[binding]}.pdf"
    return FileResponse(path, media_type="application/pdf", filename=name)


@router.get("/d/{kind_code}/{number}/print.pdf")
def print_pdf(
    request: Request,
    kind_code: str,
    number: str,
    user: PageUser,
    as_of: str | None = None,
    version: int | None = None,
) -> Response:
    # The state the document page shows, looked up as strictly (no such version: NotFound;
    # a time that does not read: a field problem), so the button prints what is on screen.
    instant = queries.parse_instant(as_of) if as_of else None
    made = print_document(archive_of(request), kind_code, number, version=version, as_of=instant)
    kind = get_kind(kind_code)
    # An earlier state saved beside the current one must not take its name.
    (printed,) = made.manifest["documents"]
    earlier = f"-第{printed['version']}版" if version is not None or as_of else ""
    name = f"{kind.label}-{number}{earlier}.pdf"
    return Response(
        made.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": "inline; filename*=UTF-8''" + quote(name)},
    )
