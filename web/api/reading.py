"""Reading across documents: the kinds, search, worklists, and the permission table (vehicles
and customers are in ``web.api.cases``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from archive.errors import Forbidden
from archive.kinds.registry import KINDS, get_kind
from archive.queries import worklists
from archive.queries.search import MAX_OFFSET, search_answer
from archive.reports.due import with_due_reports
from archive.staff.permissions import permission_table
from web.api.deps import ArchiveDep, ReadModelsDep
from web.api.routing import ApiRoute
from web.api.schema import KindCode
from web.auth import ApiUser

router = APIRouter(route_class=ApiRoute)

# Who may read someone else's worklist.
OVERSEERS = {"admin", "auditor"}


@router.get("/kinds", tags=["kinds 单据种类"], summary="单据种类 / every document kind")
def list_kinds() -> list[dict[str, Any]]:
    return [kind.describe() for kind in KINDS.values()]


@router.get("/kinds/{kind}", tags=["kinds 单据种类"], summary="一种单据的各栏 / a kind's fields")
def describe_kind(kind: KindCode) -> dict[str, Any]:
    return get_kind(kind).describe()


@router.get(
    "/search",
    tags=["reading 查询"],
    summary="检索 / search documents",
    description="Words and filters, e.g. `刹车 kind:work_order month:2026-11`, `vin:042788`, "
    "`plate:A12345`, `phone:8000`, `staff:王强`, `status:待签字`, `history:yes`, `sort:date`; "
    "a leading `-` negates. A voided document is found only when asked for (`flag:voided`). "
    "`incomplete` is true (with `notice_zh`/`notice_en`) while the index lags the archive, "
    "e.g. during `archive rebuild search`: documents filed meanwhile may be missing. "
    "`total_capped` is true when there are more hits than the engine counts (PostgreSQL: "
    "1,000): `total` is then that cap, and pages go no further.",
)
def search(
    q: Annotated[str, Query(min_length=1, max_length=500)],
    models: ReadModelsDep,
    page: Annotated[int, Query(ge=1, le=MAX_OFFSET // 200 + 1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    return search_answer(models, q, page, page_size)


@router.get(
    "/worklist",
    tags=["reading 查询"],
    summary="待办 / what waits for you (admins and auditors: for ?staff=)",
)
def worklist(
    user: ApiUser,
    archive: ArchiveDep,
    models: ReadModelsDep,
    staff: Annotated[str | None, Query(description="username or full name")] = None,
) -> dict[str, Any]:
    directory = archive.staff.refresh()
    person = worklists.find_person(directory, staff) if staff else directory[user.username]
    if person.username != user.username and not OVERSEERS & set(user.roles):
        raise Forbidden(
            "not_permitted",
            f"{user.name}只能查看自己的待办（管理员和审计可查看他人的）",
            f"{user.username} may read only his own worklist",
        )
    today = archive.now().astimezone(archive.settings.tz).date()
    names = {username: p.name for username, p in directory.items()}
    inactive = {username for username, p in directory.items() if not p.active}
    todo = worklists.worklist(models.worklists, archive.settings, person, names, today, inactive)
    return with_due_reports(todo, today)  # a clerk's reports due today


@router.get("/permissions", tags=["staff 员工"], summary="权限表 / who may do what")
def permissions() -> list[dict[str, Any]]:
    return permission_table()
