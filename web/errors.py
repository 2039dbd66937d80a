"""The one translation of a refusal for the web: the JSON body the API answers with, and the
message a page shows. Both read the error's own code, messages, problems and HTTP status, so a
new kind of refusal needs no code here."""

from __future__ import annotations

import logging
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
        text = str(error.detail)
        detail = error.detail if isinstance(error.detail, dict) else {}
        body = {"error": "http_error", "message_zh": text, "message_en": text, **detail}
        return JSONResponse(
            {"problems": [], **body}, status_code=error.status_code, headers=error.headers
        )
    if isinstance(error, ClientDisconnect):
        # The client went away mid-upload: nothing was saved, and nobody reads this answer.
        return _body(400, "disconnected", "上传中断", "the client disconnected", [])
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    apology_en = "internal error; nothing was changed by this request"
    return _body(500, "internal", APOLOGY_ZH, apology_en, [])
