"""Staff: the directory, registering, changing roles, deactivating and reactivating (admins; the
write path checks).

Passwords and personal tokens are not issued here: a leaked token must not be able to mint
another one or a password that outlives its revocation. The CLI and the login pages do that.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from archive import commands
from archive.bootstrap import Archive
from archive.errors import NotFound
from web.api.deps import ArchiveDep
from web.api.models import NewStaff, Reason, RolesChange
from web.api.routing import ApiRoute
from web.auth import ApiUser

router = APIRouter(route_class=ApiRoute, tags=["staff 员工"])


def _person(archive: Archive, username: str) -> dict[str, Any]:
    info = archive.staff.get(username)
    if info is None:
        raise NotFound("staff_not_found", f"没有员工“{username}”", f"no staff member {username!r}")
    return info.as_dict()


@router.get("/staff", summary="员工名单 / everyone, active or not")
def staff_list(archive: ArchiveDep) -> list[dict[str, Any]]:
    people = sorted(archive.staff.refresh().values(), key=lambda p: p.username)
    return [p.as_dict() for p in people]


@router.get("/staff/{username}", summary="一位员工 / one staff member")
def staff_member(username: str, archive: ArchiveDep) -> dict[str, Any]:
    return _person(archive, username)


@router.post(
    "/staff",
    status_code=201,
    summary="登记员工 / register a staff member (admin)",
    responses={201: {"headers": {"Location": {"description": "the new staff member"}}}},
)
def register(
    body: NewStaff, request: Request, response: Response, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    staff = commands.register_staff(
        archive,
        username=body.username,
        name=body.name,
        roles=body.roles,
        actor=user.username,
        registration_no=body.registration_no,
        phone=body.phone,
    )
    response.headers["Location"] = request.app.url_path_for("staff_member", username=staff.username)
    return _person(archive, staff.username)


@router.put("/staff/{username}/roles", summary="更改角色 / replace the roles (admin)")
def change_roles(
    username: str, body: RolesChange, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    commands.change_roles(archive, username, body.roles, user.username, body.registration_no)
    return _person(archive, username)


@router.post("/staff/{username}/deactivate", summary="停用 / deactivate, with a reason (admin)")
def deactivate(username: str, body: Reason, user: ApiUser, archive: ArchiveDep) -> dict[str, Any]:
    commands.deactivate_staff(archive, username, body.reason, user.username)
    return _person(archive, username)


@router.post(
    "/staff/{username}/reactivate", summary="恢复 / reactivate a deactivated person (admin)"
)
def reactivate(username: str, body: Reason, user: ApiUser, archive: ArchiveDep) -> dict[str, Any]:
    commands.reactivate_staff(archive, username, body.reason, user.username)
    return _person(archive, username)
