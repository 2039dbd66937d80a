"""Who is asking: login and logout pages, the session user, API tokens, CSRF on every change."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from archive.bootstrap import Archive
from archive.kinds.fieldtypes import StaffInfo
from archive.staff.credentials import check_password, check_token
from archive.staff.sessions import open_session_store
from archive.staff.throttle import LoginThrottle
from web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    Sessions,
    csrf_ok,
    load_or_create_key,
    load_session,
    session_person,
    store_session,
    switch_session,
)
from web.stale_form import (
    Carried,
    StaleForm,
    expired_page,
    read_carried,
    safe_path,
    stale_form_page,
)
from web.templating import render

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def archive_of(request: Request) -> Archive:
    return request.app.state.archive


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_user(request: Request) -> StaffInfo | None:
    """The active staff member behind this request (API token or session), else ``None``."""
    archive = archive_of(request)
    token = bearer_token(request)
    if token is not None:
        return check_token(archive, token)
    return session_person(request)


def page_user(request: Request) -> StaffInfo:
    person = current_user(request)
    if person is None:
        raise LoginRequired(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
    return person


def api_user(request: Request) -> StaffInfo:
    person = current_user(request)
    if person is None:
        raise HTTPException(
            401,
            {
                "error": "unauthenticated",
                "message_zh": "请提供有效的个人令牌（Authorization: Bearer …）",
                "message_en": "a valid personal token is required",
            },
        )
    return person


def install_sessions(app: FastAPI, archive: Archive) -> None:
    """Sessions and the login throttle in the archive's database, and the page that answers a
    form sent from another session."""
    store = open_session_store(archive.settings)
    app.state.sessions = Sessions(store, load_or_create_key(archive.layout.session_key))
    app.state.login_throttle = LoginThrottle(store)
    app.add_exception_handler(StaleForm, stale_form_page)


async def verify_csrf(request: Request) -> None:
    """Every change made with a session cookie must carry the session's CSRF token (in the
    form or the X-CSRF-Token header). Token-authenticated API calls carry no cookie to abuse.
    A page's form with a wrong token (left open while someone else logged in) is answered
    with what was typed (``StaleForm``), never acted on."""
    if request.method not in UNSAFE_METHODS or bearer_token(request) is not None:
        return
    submitted = request.headers.get(CSRF_HEADER)
    form = None
    if submitted is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        submitted = form.get(CSRF_FIELD)  # type: ignore[assignment]
    if not csrf_ok(load_session(request), submitted if isinstance(submitted, str) else None):
        if form is not None:
            raise StaleForm(form)
        raise HTTPException(
            403,
            {
                "error": "csrf",
                "message_zh": "表单已过期或来源不明，请刷新页面后重试",
                "message_en": "missing or wrong CSRF token; reload the page and retry",
            },
        )


PageUser = Annotated[StaffInfo, Depends(page_user)]
ApiUser = Annotated[StaffInfo, Depends(api_user)]

router = APIRouter(dependencies=[Depends(verify_csrf)])


async def carried_form(request: Request) -> Carried | None:
    """The stale form the expired-form page's login form carries along, if any."""
    return read_carried((await request.form()).multi_items())


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_path(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    carried: Annotated[Carried | None, Depends(carried_form)],
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Log in. From an expired-form page the login carries that form: every answer shows it
    again (a refusal with the error, a success as the person now logged in, who then confirms
    it with a click; the stale request is never acted on by itself)."""
    throttle: LoginThrottle = request.app.state.login_throttle
    # Checked and counted in one transaction, before the password is: see LoginThrottle.
    wait = throttle.attempt(username)
    person = None if wait > 0 else check_password(archive_of(request), username, password)
    if person is None:
        if wait > 0:
            error, status = f"登录失败次数过多，请 {int(wait) + 1} 秒后再试", 429
        else:
            error, status = "用户名或密码错误，或该账号已停用", 401
        if carried is not None:
            return expired_page(
                request, carried, foreign=False, status_code=status, error=error, username=username
            )
        context = {"next": safe_path(next), "username": username, "error": error}
        return render(request, "login.html", context, status_code=status)
    throttle.succeeded(username)
    if carried is not None:
        # The CSRF check passed, so this came from our own page: the form is not foreign.
        switch_session(request, request.app.state.sessions.start(person.username))
        notice = f"已以 {person.name} 的身份登录。刚才的表单还没有提交：请核对后重新提交。"
        return expired_page(request, carried, foreign=False, status_code=200, notice=notice)
    response = RedirectResponse(safe_path(next), status_code=303)
    start_session(request, response, person.username)
    return response


def start_session(request: Request, response: Response, username: str) -> None:
    """Log ``username`` in from this request on, with a new session id and CSRF token."""
    sessions: Sessions = request.app.state.sessions
    session = sessions.start(username)
    switch_session(request, session)
    store_session(request, response, session)


@router.post("/logout")
def logout(request: Request) -> Response:
    """The session ends in the database: its cookie is worth nothing from now on."""
    sessions: Sessions = request.app.state.sessions
    session = sessions.end(load_session(request))
    switch_session(request, session)
    response = RedirectResponse("/login", status_code=303)
    store_session(request, response, session)
    return response


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_url)}", status_code=303)
