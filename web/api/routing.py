"""What every call of the JSON API shares: errors as JSON, and writes visible to the next read.

The API's routes use :class:`ApiRoute`, which turns an error into its JSON answer right where
it happens. Nothing is registered on the application, so the pages keep their own error
handling, and no stack trace reaches a client whichever app mounts the router.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from archive.commands import ImportFailed
from archive.errors import ArchiveError, BadInput
from archive.kinds.registry import UnknownKind
from archive.kinds.validation import ValidationFailed
from projections.search.query import QueryError
from web.auth import UNSAFE_METHODS

log = logging.getLogger(__name__)

# A write waits this long for the read models, so that a search right after it finds it.
SETTLE_SECONDS = 2.0


class Problem(BaseModel):
    """One thing to fix: the field (empty for the request as a whole) and what is wrong."""

    field: str
    message_zh: str
    message_en: str
    line: int | None = None  # CSV imports: the line of the file


class ErrorBody(BaseModel):
    """Every error answer: a stable code for scripts, messages for people, field problems."""

    error: str
    message_zh: str
    message_en: str
    problems: list[Problem] = []


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


def _error(
    status: int,
    code: str,
    zh: str,
    en: str,
    problems: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = {"error": code, "message_zh": zh, "message_en": en, "problems": problems or []}
    return JSONResponse(body, status_code=status)


def _request_problems(error: RequestValidationError) -> list[dict[str, Any]]:
    problems = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        # ("body", "changes") names the field "changes"; a body that is not JSON at all, "body".
        field = ".".join(loc[1:]) if len(loc) > 1 and item["type"] != "json_invalid" else "body"
        zh = _PYDANTIC_ZH.get(item["type"], "格式不对")
        problems.append({"field": field, "message_zh": zh, "message_en": item.get("msg", "")})
    return problems


def error_response(request: Request, error: Exception) -> Response:
    """The JSON answer to ``error``; anything unexpected is logged and apologised for."""
    if isinstance(error, ValidationFailed):
        problems = [p.as_dict() for p in error.problems]
        return _error(422, "invalid", "输入有误，请按提示修改", "invalid input", problems)
    if isinstance(error, RequestValidationError):
        problems = _request_problems(error)
        return _error(422, "invalid", "输入有误，请按提示修改", "invalid input", problems)
    if isinstance(error, ImportFailed):
        problems = [asdict(p) for p in error.problems]
        return _error(422, error.code, error.message_zh, error.message_en, problems)
    if isinstance(error, BadInput):
        problem = {"field": "", "message_zh": error.message_zh, "message_en": error.message_en}
        return _error(422, error.code, error.message_zh, error.message_en, [problem])
    if isinstance(error, ArchiveError):
        return _error(error.http_status, error.code, error.message_zh, error.message_en)
    if isinstance(error, UnknownKind):
        return _error(404, "unknown_kind", error.message_zh, error.message_en)
    if isinstance(error, QueryError):
        problem = {"field": "q", "message_zh": error.message_zh, "message_en": error.message_en}
        return _error(422, "bad_query", error.message_zh, error.message_en, [problem])
    if isinstance(error, HTTPException):
        text = str(error.detail)
        detail = error.detail if isinstance(error.detail, dict) else {}
        body = {"error": "http_error", "message_zh": text, "message_en": text, **detail}
        return JSONResponse(
            {"problems": [], **body}, status_code=error.status_code, headers=error.headers
        )
    if isinstance(error, ClientDisconnect):
        # The client went away mid-upload: nothing was saved, and nobody reads this answer.
        return _error(400, "disconnected", "上传中断", "the client disconnected")
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(
        500,
        "internal",
        "系统出错了，操作没有完成。请稍后重试；如果一再出现，请告诉管理员。",
        "internal error; nothing was changed by this request",
    )


def settle(request: Request) -> None:
    """Let the projections catch up with a write just made (bounded: the write stands anyway)."""
    request.app.state.read_models.runner.wait_for(timeout=SETTLE_SECONDS)


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except Exception as error:
                return error_response(request, error)
            if request.method in UNSAFE_METHODS and response.status_code < 400:
                await run_in_threadpool(settle, request)
            return response

        return handler
