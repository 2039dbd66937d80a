"""The answer to a page form whose CSRF token no longer matches the session: typically a form
left open on the counter PC while someone else logged in. Nothing of the request is done; the
page shows what was typed, says who is logged in now, and offers to send it again as him with
a fresh token (or to go back). Passwords are never shown back; files must be chosen again."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
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


def field_label(name: str) -> str:
    """What a clerk calls the form field ``name`` (``parts[0][qty]``: 配件 第 1 行 数量)."""
    labels = _registry_labels()
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

    @property
    def label(self) -> str:
        return field_label(self.name)


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
    path = referer.removeprefix(origin) if referer.startswith(origin + "/") else "/"
    return path if path.startswith("/") and not path.startswith("//") else "/"


async def stale_form_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, StaleForm)
    if request.url.path == "/login":  # a login page left open too long: just log in again
        username = next((f.value for f in error.fields if f.name == "username"), "")
        context = {"next": "/", "username": username, "error": "页面已过期，请重新登录"}
        return render(request, "login.html", context, status_code=403)
    fields = [f for f in error.fields if not f.is_file]
    return render(
        request,
        "expired_form.html",
        {
            "now_user": session_person(request),
            "foreign": not _from_this_site(request),
            "fields": fields,
            "files": [f for f in error.fields if f.is_file],
            "passwords": [f for f in fields if f.value is None],
            "action": request.url.path,
            "back": _back(request),
        },
        status_code=403,
    )
