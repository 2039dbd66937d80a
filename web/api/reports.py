"""The reports as JSON (``GET /api/v1/reports/{name}?month=2026-11``) and as files
(``&format=pdf`` or ``&format=xlsx``), the same objects the pages and the CLI render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from archive.queries.documents import today
from archive.reports.display import report_dict
from archive.reports.run import (
    DUE_LABELS,
    MEDIA_TYPES,
    PAGE_WAIT_SECONDS,
    ask,
    available_specs,
    bad_format,
    build_report,
    download_headers,
    rendered,
)
from web.api.deps import ArchiveDep, ReadModelsDep
from web.api.routing import ApiRoute

router = APIRouter(route_class=ApiRoute)

PeriodQuery = Annotated[str | None, Query(max_length=20)]
FORMATS = ("json", *MEDIA_TYPES)
# The schema names the formats; the route checks them itself, so a wrong one is told in the
# words the page uses (没有“docx”格式；可选：…) on the field ``format``, not pydantic's pattern.
FormatQuery = Annotated[str, Query(max_length=20, json_schema_extra={"enum": list(FORMATS)})]


@router.get("/reports", tags=["reports 报表"], summary="报表目录 / the reports there are")
def list_reports() -> list[dict[str, Any]]:
    return [
        {
            "name": spec.name,
            "title": spec.title,
            "periods": list(spec.periods),
            "due": spec.due,
            "due_zh": DUE_LABELS.get(spec.due or "", ""),
            "summary": spec.summary,
        }
        for spec in available_specs()
    ]


@router.get(
    "/reports/{name}",
    tags=["reports 报表"],
    summary="一份报表 / a report for a period (JSON, or a PDF or XLSX file)",
    description="One of `day`, `week` (`2026-W48`), `month`, `year`; none: the report's default "
    "period. `format=pdf` or `format=xlsx` downloads the file instead of JSON.",
    response_model=None,
)
def get_report(
    name: str,
    archive: ArchiveDep,
    models: ReadModelsDep,
    day: PeriodQuery = None,
    week: PeriodQuery = None,
    month: PeriodQuery = None,
    year: PeriodQuery = None,
    format: FormatQuery = "json",
) -> dict[str, Any] | Response:
    if format not in FORMATS:
        raise bad_format(format, FORMATS)
    asked = ask(name, {"day": day, "week": week, "month": month, "year": year}, today(archive))
    built = build_report(archive, models, asked, PAGE_WAIT_SECONDS)
    if format == "json":
        return report_dict(built)
    return Response(rendered(built, archive, format), headers=download_headers(built, format))
