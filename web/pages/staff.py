"""Staff administration for admins: register, roles, deactivate and reactivate, passwords, API
tokens; and for everyone, his own password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from archive import commands
from archive.bootstrap import Archive
from archive.errors import ArchiveError
from archive.kinds.roles import STAFF_ROLES
from archive.staff.permissions import MANAGE_STAFF
from web.auth import PageUser, archive_of, start_session
from web.errors import page_message
from web.pages.common import can
from web.templating import render

router = APIRouter()


def _page(
    request: Request, user: object, message: str | None = None, error: str | None = None,
    token: str | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    archive = archive_of(request)
    people = sorted(archive.staff.refresh().values(), key=lambda p: (not p.active, p.username))
    return render(
        request,
        "staff.html",
        {
            "people": people,
            "roles": STAFF_ROLES,
            "admin": can(user, MANAGE_STAFF),  # type: ignore[arg-type]
            "message": message,
            "error": error,
            "token": token,
        },
        status_code=status_code,
    )


# What the page says after an action (``/staff?done=CODE&who=USERNAME``). Only these codes are
# shown, and the name comes from the staff directory: a link cannot make the page say anything
# else in the system's voice.
DONE_MESSAGES = {
    "registered": "已登记{who}。",
    "roles": "已更新{who}的角色。",
    "deactivated": "已停用{who}：其登录和 API 令牌均已失效。",
    "reactivated": "已恢复{who}在职。",
    "password": "已设置{who}的密码。",
}


def done_message(archive: Archive, done: str, who: str, me: str) -> str | None:
    template = DONE_MESSAGES.get(done)
    if template is None:
        return None
    if done == "password" and who == me:
        return "已修改您的密码；您在其他电脑上的登录都已退出。"
    person = archive.staff.refresh().get(who)
    return template.format(who=f" {person.name}（{person.username}）" if person else "")


@router.get("/staff")
def staff_page(request: Request, user: PageUser, done: str = "", who: str = "") -> Response:
    message = done_message(archive_of(request), done, who, user.username)
    return _page(request, user, message=message)


def _run(
    request: Request, user: PageUser, action: Callable[[Archive], object], done: str, who: str
) -> Response:
    """Run one write-path command on the app's archive; refused, show why on the page; done,
    back to the page saying so (``done`` is a key of ``DONE_MESSAGES``, ``who`` a username)."""
    try:
        result = action(archive_of(request))
    except ArchiveError as error:
        return _page(request, user, error=page_message(error), status_code=error.http_status)
    if isinstance(result, tuple):  # a new token: shown once, on this page, never again
        return _page(request, user, message="已生成令牌。", token=result[1])
    query = urlencode({"done": done, "who": who})
    return RedirectResponse(f"/staff?{query}", status_code=303)


@router.post("/staff")
def add_staff(
    request: Request,
    user: PageUser,
    username: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    registration_no: Annotated[str, Form()] = "",
) -> Response:
    return _run(
        request,
        user,
        lambda archive: commands.register_staff(
            archive,
            username=username,
            name=name,
            roles=roles or [],
            actor=user.username,
            registration_no=registration_no,
        ),
        "registered",
        username,
    )


@router.post("/staff/{username}/roles")
def change_roles(
    request: Request,
    username: str,
    user: PageUser,
    roles: Annotated[list[str] | None, Form()] = None,
    registration_no: Annotated[str, Form()] = "",
) -> Response:
    return _run(
        request,
        user,
        lambda archive: commands.change_roles(
            archive, username, roles or [], user.username, registration_no
        ),
        "roles",
        username,
    )


@router.post("/staff/{username}/deactivate")
def deactivate(
    request: Request, username: str, user: PageUser, reason: Annotated[str, Form()] = ""
) -> Response:
    return _run(
        request,
        user,
        lambda archive: commands.deactivate_staff(archive, username, reason, user.username),
        "deactivated",
        username,
    )


@router.post("/staff/{username}/reactivate")
def reactivate(
    request: Request, username: str, user: PageUser, reason: Annotated[str, Form()] = ""
) -> Response:
    return _run(
        request,
        user,
        lambda archive: commands.reactivate_staff(archive, username, reason, user.username),
        "reactivated",
        username,
    )


@router.post("/staff/{username}/password")
def set_password(
    request: Request,
    username: str,
    user: PageUser,
    password: Annotated[str, Form()] = "",
    old_password: Annotated[str, Form()] = "",
) -> Response:
    response = _run(
        request,
        user,
        lambda archive: commands.set_password(
            archive, username, password, user.username, old_password
        ),
        "password",
        username,
    )
    if username == user.username and response.status_code == 303:
        # The change ended all his sessions, this one too: he goes on in a new one.
        start_session(request, response, user.username)
    return response


@router.post("/staff/{username}/token")
def issue_token(
    request: Request, username: str, user: PageUser, label: Annotated[str, Form()] = ""
) -> Response:
    return _run(
        request,
        user,
        lambda archive: commands.issue_token(archive, username, label, user.username),
        "token",
        username,
    )
