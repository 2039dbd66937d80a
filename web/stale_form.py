"""The answer to a page form whose CSRF token no longer matches the session: typically a form
left open on the counter PC while someone else logged in. Nothing of the request is done; the
page shows what was typed, says who is logged in now, and offers to send it again as him with
a fresh token (or to go back). Passwords are never shown back; files must be chosen again.

When nobody is logged in any more (the session ran out, or someone logged out on the shared
PC), the page offers a login form that carries what was typed (never passwords) and where it
was going; the login answers with this page again, now with the button to send it as the
person just logged in. Nothing is sent without that click."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import FormData, UploadFile

from archive.kinds.registry import KINDS
from web.security import CSRF_FIELD, session_person
from web.templating import render

# Fields of the pages' own forms (the documents' fields are named by the kind registry).
_LABELS = {
    "username": "用户名", "name": "姓名", "roles": "角色", "role": "角色",
    "registration_no": "备案号", "reason": "原因", "label": "用途", "password": "新密码",
    "old_password": "原密码", "number": "编号", "customer_name": "顾客姓名",
    "claim_no": "索赔单号", "expected_version": "版本", "mileage_claimed": "申报里程",
    "mileage_verified": "核实里程", "odometer_out": "出厂里程", "odometer_in": "返厂里程",
    "handheld_terminal_id": "手持终端编号", "force_reason": "原因", "scan": "扫描件",
    "signature_png": "签名", "bundle": "档案包", "binding": "装订件", "month": "月份",
}  # fmt: skip
_CELL = re.compile(r"^(?P<field>\w+)\[(?P<row>\d+)\]\[(?P<column>\w+)\]$")
# The pages whose form fields are a document kind's: filing, and everything under /d/<kind>/.
_KIND_PATH = re.compile(r"^/(?:file|d)/(?P<kind>\w+)(?:/|$)")

# The login form on this page carries the stale form in fields of its own, so they cannot be
# mistaken for the login's username and password (the staff form has a ``username`` too).
CARRIED_PREFIX = "carried."
CARRIED_FILE_PREFIX = "carried-file."
CARRIED_ACTION = "carried_action"
CARRIED_BACK = "carried_back"


def safe_path(target: str | None) -> str:
    """Only a path on this site, else ``/``: never send a login, or a carried form, to another
    host. A backslash or a control character is refused too: browsers read ``/\\host`` and
    ``/<tab>/host`` as ``//host``."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
    ):
        return "/"
    return target


@functools.cache
def _registry_labels() -> dict[str, str]:
    """Field and line-column labels of every kind, by code (the first kind's label wins)."""
    labels: dict[str, str] = {}
    for kind in KINDS.values():
        for spec in kind.fields:
            labels.setdefault(spec.code, spec.label)
            for column in getattr(spec.type, "columns", ()):
                labels.setdefault(f"{spec.code}.{column.code}", column.label)
    return labels


@functools.cache
def _kind_labels(kind_code: str) -> dict[str, str]:
    """Labels as one kind's form shows them: its own first, ``number`` included (委托书号 on a
    work order, as the filing form says), then the other kinds'."""
    kind = KINDS[kind_code]
    labels = {**_registry_labels(), "number": kind.number_label}
    for spec in kind.fields:
        labels[spec.code] = spec.label
        for column in getattr(spec.type, "columns", ()):
            labels[f"{spec.code}.{column.code}"] = column.label
    return labels


def kind_of(action: str) -> str | None:
    """The document kind whose form posts to ``action``, if any."""
    match = _KIND_PATH.match(action)
    return match["kind"] if match and match["kind"] in KINDS else None


def field_label(name: str, kind: str | None = None) -> str:
    """What a clerk calls the form field ``name`` (``parts[0][qty]``: 配件 第 1 行 数量), in
    the words of the form's own kind when there is one."""
    labels = _registry_labels() if kind is None else _kind_labels(kind)
    cell = _CELL.match(name)
    if cell:
        table = labels.get(cell["field"], cell["field"])
        column = labels.get(f"{cell['field']}.{cell['column']}", cell["column"])
        return f"{table} 第 {int(cell['row']) + 1} 行 {column}"
    return labels.get(name) or _LABELS.get(name, name)


@dataclass(frozen=True)
class TypedField:
    name: str
    value: str | None  # None: a password, not shown back
    is_file: bool = False
    kind: str | None = None  # the document kind whose form this was, for its labels

    @property
    def label(self) -> str:
        return field_label(self.name, self.kind)


class StaleForm(Exception):
    """Raised by the CSRF check for a page form; the app answers with :func:`stale_form_page`."""

    def __init__(self, form: FormData) -> None:
        super().__init__("stale form: the session's CSRF token does not match")
        fields = []
        for name, value in form.multi_items():
            if name == CSRF_FIELD:
                continue
            if isinstance(value, UploadFile):
                fields.append(TypedField(name, value.filename or "", is_file=True))
            elif "password" in name:
                fields.append(TypedField(name, None))
            else:
                fields.append(TypedField(name, value))
        self.fields = fields


def _from_this_site(request: Request) -> bool:
    """Whether the browser says the form was on one of our pages (``Origin``, else
    ``Referer``). A forged cross-site post must not become a page with a ready, valid
    "send again" button: it gets the refusal and what was sent, nothing to click."""
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value:
            return urlsplit(value).netloc == request.url.netloc
    return False


def _back(request: Request) -> str:
    """Where the form came from, if it was this site; else the dashboard."""
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return safe_path(referer.removeprefix(origin) if referer.startswith(origin + "/") else "/")


def _typed(name: str, value: str | None, is_file: bool = False) -> TypedField:
    """A typed field as kept for the page: a password's value is dropped, whatever it was."""
    return TypedField(name, None if "password" in name and not is_file else value, is_file)


@dataclass(frozen=True)
class Carried:
    """A stale form carried through the login form of the expired page."""

    action: str  # a path on this site (``safe_path``), where the form was going
    back: str
    fields: tuple[TypedField, ...]


def read_carried(items: Iterable[tuple[str, object]]) -> Carried | None:
    """The stale form a login form carries, if it carries one (``None`` for a plain login).
    Its fields come back as typed, except passwords: only their names travel."""
    action = back = None
    fields: list[TypedField] = []
    for name, value in items:
        text = value if isinstance(value, str) else ""
        if name == CARRIED_ACTION:
            action = safe_path(text)
        elif name == CARRIED_BACK:
            back = safe_path(text)
        elif name.startswith(CARRIED_PREFIX):
            fields.append(_typed(name.removeprefix(CARRIED_PREFIX), text))
        elif name.startswith(CARRIED_FILE_PREFIX):
            fields.append(_typed(name.removeprefix(CARRIED_FILE_PREFIX), text, is_file=True))
    # A form "carried" to the login page itself would only log in again: not a form to keep.
    if action is None or action in ("/", "/login"):
        return None
    return Carried(action, back or "/", tuple(fields))


def expired_page(
    request: Request,
    carried: Carried,
    *,
    foreign: bool,
    status_code: int,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
) -> Response:
    """The expired-form page: what was typed, and what the person may do with it now (send it
    again as the person logged in, or, when nobody is, log in and carry it along)."""
    kind = kind_of(carried.action)
    typed = [replace(f, kind=kind) for f in carried.fields]
    fields = [f for f in typed if not f.is_file]
    return render(
        request,
        "expired_form.html",
        {
            "now_user": session_person(request),
            "foreign": foreign,
            "fields": fields,
            "files": [f for f in typed if f.is_file],
            "passwords": [f for f in fields if f.value is None],
            "action": carried.action,
            "back": carried.back,
            "login_error": error,
            "notice": notice,
            "username": username,
            "carried_prefix": CARRIED_PREFIX,
            "carried_file_prefix": CARRIED_FILE_PREFIX,
            "carried_action": CARRIED_ACTION,
            "carried_back": CARRIED_BACK,
        },
        status_code=status_code,
    )


async def stale_form_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, StaleForm)
    foreign = not _from_this_site(request)
    if request.url.path == "/login":
        # The login form of an expired-form page, itself stale (someone logged in or out in
        # another tab meanwhile): what it carries is shown again, never dropped or sent.
        carried = read_carried((f.name, f.value) for f in error.fields)
        if carried is not None:
            message = None if session_person(request) else "页面已过期，请重新登录"
            return expired_page(request, carried, foreign=foreign, status_code=403, error=message)
        # A login page left open too long: just log in again.
        username = next((f.value for f in error.fields if f.name == "username"), "")
        context = {"next": "/", "username": username, "error": "页面已过期，请重新登录"}
        return render(request, "login.html", context, status_code=403)
    carried = Carried(request.url.path, _back(request), tuple(error.fields))
    return expired_page(request, carried, foreign=foreign, status_code=403)
