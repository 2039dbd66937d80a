"""The reports of the information desk: the index (each report, when it is due, a link to
its usual period) and one report's page, with its PDF and spreadsheet downloads.

A bad period or a period kind the report is not made for is refused by
``archive.reports.run`` like on the command line; the app's guards show the Chinese message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response

from archive.queries.documents import today
from archive.reports.display import report_view
from archive.reports.model import Period, ReportSpec
from archive.reports.periods import (
    KIND_LABELS,
    default_period,
    period_title,
    shifted,
    spec_default,
)
from archive.reports.run import (
    DUE_LABELS,
    PAGE_WAIT_SECONDS,
    PERIOD_KINDS,
    Asked,
    ask,
    available_specs,
    build_report,
    download_headers,
    latest_start,
    rendered,
)
from web.auth import PageUser, archive_of
from web.pages.common import models_of
from web.templating import render

router = APIRouter()


def period_query(period: Period) -> str:
    return urlencode({period.kind: period.label})


def report_url(name: str, period: Period) -> str:
    return f"/reports/{name}?{period_query(period)}"


def _asked(request: Request, name: str) -> Asked:
    archive = archive_of(request)
    params = request.query_params
    return ask(name, {kind: params.get(kind) for kind in PERIOD_KINDS}, today(archive))


@router.get("/reports")
def reports_index(request: Request, user: PageUser) -> Response:
    on = today(archive_of(request))

    def entry(spec: ReportSpec) -> dict[str, Any]:
        period = spec_default(spec, on)
        return {
            "spec": spec,
            "due": DUE_LABELS.get(spec.due or "", ""),
            "url": report_url(spec.name, period),
            "period_title": period_title(period),
            "periods": "、".join(f"按{KIND_LABELS[k]}" for k in spec.periods),
        }

    return render(request, "reports.html", {"reports": [entry(s) for s in available_specs()]})


@router.get("/reports/{name}")
def report_page(request: Request, user: PageUser, name: str) -> Response:
    asked = _asked(request, name)
    archive = archive_of(request)
    built = build_report(archive, models_of(request), asked, PAGE_WAIT_SECONDS)
    period = asked.period
    on = today(archive)
    nxt, reach = shifted(period, 1), latest_start(asked.spec, on)
    choices = [
        {
            "kind": kind,
            "label": KIND_LABELS[kind],
            "value": period.label if kind == period.kind else default_period(kind, on).label,
            "current": kind == period.kind,
        }
        for kind in asked.spec.periods
    ]
    query = period_query(period)
    return render(
        request,
        "report.html",
        {
            **report_view(built, archive.settings.tz),
            "spec": asked.spec,
            "choices": choices,
            "previous_url": report_url(name, shifted(period, -1)),
            # No link to a period the report would refuse (it has not begun yet).
            "next_url": report_url(name, nxt) if nxt.start <= reach else None,
            "pdf_url": f"/reports/{quote(name)}/download?format=pdf&{query}",
            "xlsx_url": f"/reports/{quote(name)}/download?format=xlsx&{query}",
        },
    )


@router.get("/reports/{name}/download")
def report_download(request: Request, user: PageUser, name: str, format: str = "pdf") -> Response:
    asked = _asked(request, name)
    archive = archive_of(request)
    built = build_report(archive, models_of(request), asked, PAGE_WAIT_SECONDS)
    data = rendered(built, archive, format)
    return Response(data, headers=download_headers(built, format))
