"""Issue 12 in the API: a work order's case file, new documents drafted from another paper or
(the daily report) from the day's work orders, and customers and vehicles found as clerks
look for them (VIN, its last 6 or 8, plate with or without the province, mobile)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from archive import commands
from archive.bootstrap import Archive
from archive.errors import BadInput, FieldProblem
from archive.kinds.registry import get_kind
from archive.queries import customers as people
from archive.queries import staff_names
from archive.queries.cases import case_file
from web.api.deps import ArchiveDep, ReadModelsDep
from web.api.routing import ApiRoute
from web.api.schema import KindCode, says

router = APIRouter(route_class=ApiRoute)

# ``work_order:WO-0001``: a kind's code, a colon, the number.
SOURCE = {"pattern": "^[a-z_]+:[^\\u0000-\\u001f\\u007f]+$", "maxLength": 100}
Source = Annotated[
    str | None,
    Query(
        alias="from",
        description="KIND:NUMBER of the paper the new one is created from, "
        "e.g. `work_order:WO-0001`",
        **says(**SOURCE),
    ),
]


def parse_source(text: str) -> tuple[str, str]:
    kind, _, number = text.partition(":")
    if not kind or not number.strip():
        raise BadInput(
            "bad_source",
            "from 应写成“种类:单号”，例如 work_order:WO-0001",
            "from must be KIND:NUMBER, e.g. work_order:WO-0001",
            [FieldProblem("from", "应写成“种类:单号”", "KIND:NUMBER")],
        )
    return get_kind(kind).code, number.strip()


def today_of(archive: Archive) -> date:
    return archive.now().astimezone(archive.settings.tz).date()


@router.get(
    "/documents/work_order/{number}/case",
    tags=["documents 单据"],
    summary="案卷 / a work order's case file: every document naming it",
    description="Each linked document with kind, number, date, status, flags and link state "
    "(`ok`, `unlinked`, `mileage_differs`, `further`, `unchecked`: filed before links were "
    "checked); `through` names the document it is linked through (a quick-handling form "
    "through its callback); `create`: the kinds a new document may be created from it "
    "(`GET /drafts/{kind}?from=work_order:NUMBER`).",
)
def case(number: str, archive: ArchiveDep, models: ReadModelsDep) -> dict[str, Any]:
    return case_file(models, number, today_of(archive))


@router.get(
    "/drafts/{kind}",
    tags=["documents 单据"],
    summary="草稿 / a new document's values, from another paper or the day's work orders",
    description="With `from=KIND:NUMBER`: the fields a new document takes from that paper "
    "(a claim from its work order). A daily report without `from`: drafted from `day`'s "
    "work orders (lines, count, revenue; default today). Nothing is filed: review, complete "
    "and `POST /documents/{kind}` (which checks every link and total again).",
)
def draft(
    kind: KindCode,
    archive: ArchiveDep,
    models: ReadModelsDep,
    source: Source = None,
    day: Annotated[date | None, Query(description="daily report: the day")] = None,
) -> dict[str, Any]:
    code = get_kind(kind).code
    if source:
        return commands.prefill(archive, code, *parse_source(source))
    if code == "daily_report":
        return commands.draft_daily_report(archive, day or today_of(archive))
    raise BadInput(
        "no_source",
        f"请用 from=种类:单号 指明从哪张单据新建{get_kind(code).label}（日报可用 day=日期）",
        "give from=KIND:NUMBER (a daily report: day=YYYY-MM-DD)",
        [FieldProblem("from", "请指明来源单据", "from is required for this kind")],
    )


Key = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        description="VIN, its last 6 or 8, "
        "a plate (with or without the province) or the customer's mobile",
    ),
]


@router.get(
    "/vehicles",
    tags=["reading 查询"],
    summary="找车 / vehicles by VIN, VIN ending, plate or mobile",
)
def find_vehicles(q: Key, archive: ArchiveDep, models: ReadModelsDep) -> dict[str, Any]:
    return {"vehicles": people.find_vehicles(models, q, staff_names(archive))}


@router.get(
    "/vehicles/{vin}",
    tags=["reading 查询"],
    summary="车历卡 / a vehicle's history card",
    description="The vehicle's summary (owner, plate, visits, last visit and mileage, advisor, "
    "delivery) and every document recorded for it, by date, mileage checked.",
)
def vehicle(
    vin: Annotated[str, Path(max_length=40)],
    archive: ArchiveDep,
    models: ReadModelsDep,
    include_voided: bool = False,
) -> dict[str, Any]:
    return people.vehicle_card(models, vin, include_voided, staff_names(archive))


@router.get("/customers", tags=["reading 查询"], summary="客户 / customers, last visit first")
def customers(
    archive: ArchiveDep,
    models: ReadModelsDep,
    name: Annotated[str | None, Query(max_length=40)] = None,
    advisor: Annotated[str | None, Query(max_length=40, description="username")] = None,
    last_visit_before: Annotated[date | None, Query(description="not back since (churn)")] = None,
    last_visit_since: date | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=people.MAX_PAGE_SIZE)] = 100,
) -> dict[str, Any]:
    return people.customers(
        models,
        advisor=advisor,
        last_visit_before=last_visit_before,
        last_visit_since=last_visit_since,
        name=name,
        page=page,
        page_size=page_size,
        names=staff_names(archive),
    )


@router.get(
    "/customers/{phone}",
    tags=["reading 查询"],
    summary="客户 / a customer by mobile: cars, visits, last visit, advisor",
)
def customer(
    phone: Annotated[str, Path(max_length=20)], archive: ArchiveDep, models: ReadModelsDep
) -> dict[str, Any]:
    return people.customer(models, phone, staff_names(archive))
