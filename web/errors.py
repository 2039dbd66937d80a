"""The one translation of a refusal for the web: the JSON body the API answers with, and the
message a page shows. Both read the error's own code, messages, problems and HTTP status, so a
new kind of refusal needs no code here."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException  # FastAPI's own is a subclass
from starlette.requests import ClientDisconnect

from archive.errors import ArchiveError, BadInput, FieldProblem

log = logging.getLogger(__name__)

APOLOGY_ZH = "系统出错了，操作没有完成。请稍后重试；如果一再出现，请告诉管理员。"

# Pydantic's error types, said in Chinese (the English is pydantic's own message).
_PYDANTIC_ZH = {
    "missing": "必填",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不对",
    "extra_forbidden": "不认识这一项",
}


# What the framework's own refusals (no route, wrong method, a body it cannot read) say in
# Chinese; the English is the status's own phrase.
_HTTP_ZH = {
    400: "请求无法读取",
    401: "请先登录，或提供有效的个人令牌",
    403: "没有权限",
    404: "没有这个地址",
    405: "这个地址不接受这种请求方式",
    413: "请求内容太大",
    415: "不支持这种内容类型",
    429: "请求太频繁，请稍后再试",
}


def http_refusal(error: HTTPException) -> tuple[str, str, str]:
    """(code, message_zh, message_en) of a framework refusal; a detail that is a dict (ours,
    e.g. the CSRF check) says them itself."""
    try:
        phrase = HTTPStatus(error.status_code).phrase
    except ValueError:  # a status of no standard (e.g. 499)
        phrase = f"HTTP {error.status_code}"
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    zh = _HTTP_ZH.get(error.status_code, "请求无法完成" if error.status_code < 500 else APOLOGY_ZH)
    if isinstance(error.detail, dict):
        detail = error.detail
        return (
            detail.get("error", code),
            detail.get("message_zh", zh),
            detail.get("message_en", phrase),
        )
    return code, zh, str(error.detail or phrase)


def problems_of(error: ArchiveError) -> list[FieldProblem]:
    """What to fix, field by field; bad input that names no field is a problem of the whole
    request (field ``""``)."""
    if error.problems or not isinstance(error, BadInput):
        return error.problems
    return [FieldProblem("", error.message_zh, error.message_en)]


def page_message(error: ArchiveError) -> str:
    """What a page says of a refusal: each problem, or the message when they only repeat it."""
    told = [p.message_zh for p in error.problems if p.message_zh != error.message_zh]
    return "；".join(told) if told else error.message_zh


def page_refusal(error: Exception) -> tuple[int, str]:
    """(status, message) of a refusal as a page shows it; ``error`` is one of the archive's,
    a request a route could not read (a hand-made address), or the framework's own."""
    if isinstance(error, ArchiveError):
        return error.http_status, page_message(error)
    if isinstance(error, RequestValidationError):
        told = [f"{p.field or '请求'}：{p.message_zh}" for p in request_problems(error)]
        return 422, "地址或表单内容有误：" + "；".join(told)
    if isinstance(error, HTTPException):
        return error.status_code, http_refusal(error)[1]
    return 500, APOLOGY_ZH


def request_problems(error: RequestValidationError) -> list[FieldProblem]:
    """FastAPI's refusal of a request's shape, named as the archive names field problems."""
    problems = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        # ("body", "changes") names the field "changes"; a body that is not JSON at all, "body".
        field = ".".join(loc[1:]) if len(loc) > 1 and item["type"] != "json_invalid" else "body"
        zh = _PYDANTIC_ZH.get(item["type"], "格式不对")
        problems.append(FieldProblem(field, zh, item.get("msg", "")))
    return problems


def _body(
    status: int, code: str, zh: str, en: str, problems: list[FieldProblem], **extra: Any
) -> JSONResponse:
    body = {
        "error": code,
        "message_zh": zh,
        "message_en": en,
        "problems": [p.as_dict() for p in problems],
    }
    return JSONResponse(body, status_code=status, **extra)


def error_response(request: Request, error: Exception) -> JSONResponse:
    """The JSON answer to ``error``; anything unexpected is logged and apologised for."""
    if isinstance(error, ArchiveError):
        return _body(
            error.http_status, error.code, error.message_zh, error.message_en, problems_of(error)
        )
    if isinstance(error, RequestValidationError):
        invalid = ("invalid", "输入有误，请按提示修改", "invalid input")
        return _body(422, *invalid, request_problems(error))
    if isinstance(error, HTTPException):
        return _body(error.status_code, *http_refusal(error), [], headers=error.headers)
    if isinstance(error, ClientDisconnect):
        # The client went away mid-upload: nothing was saved, and nobody reads this answer.
        return _body(400, "disconnected", "上传中断", "the client disconnected", [])
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    apology_en = "internal error; nothing was changed by this request"
    return _body(500, "internal", APOLOGY_ZH, apology_en, [])
