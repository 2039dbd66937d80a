"""The one translation of a refusal for the web: the JSON body the API answers with, and the
message a page shows. Both read the error's own code, messages, problems and HTTP status, so a
new kind of refusal needs no code here."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
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


# The page addresses' and forms' parameters as the pages name them, for a refusal of a hand-made
# address or form: never the parameter's code name (``doc``), which means nothing at the counter.
_PARAM_ZH = {
    "doc": "所属单据",
    "as_of": "查看时间",
    "version": "版本",
    "page": "页码",
    "month": "月份",
    "job": "任务",
    "job_id": "任务",
    "owner": "待办人",
    "section": "待办类别",
    "vin": "VIN（车架号）",
    "kind_code": "单据种类",
    "number": "单号",
    "sha256": "扫描件",
    "binding": "装订方式",
    "supplement": "补充卷",
    "username": "用户名",
    "password": "密码",
    "old_password": "原密码",
    "name": "姓名",
    "role": "签字身份",
    "roles": "角色",
    "registration_no": "备案号",
    "label": "说明",
    "reason": "原因",
    "force_reason": "强制封存原因",
    "claim_no": "厂家索赔号",
    "customer_name": "客户姓名",
    "handheld_terminal_id": "手持机编号",
    "odometer_out": "出发里程表",
    "odometer_in": "返回里程表",
    "mileage_claimed": "申报外出里程",
    "mileage_verified": "核实外出里程",
    "scan": "扫描件文件",
    "bundle": "PDF 文件",
    "signature_png": "签名",
}

# How much of something a person typed a message repeats: a 5,000-character "number" in an
# address is not written back whole onto the page (or into the JSON answer).
MAX_QUOTED = 40
_LONGER = "{" + str(MAX_QUOTED + 1) + ",}"
_QUOTED_ZH = re.compile("“([^”]" + _LONGER + ")”")
# Python's repr of a string, not an apostrophe (the document's, isn't).
_QUOTED_EN = re.compile("(?<!\\w)'([^'\n]" + _LONGER + ")'(?!\\w)")


def clip(text: str, limit: int = MAX_QUOTED) -> str:
    """The first ``limit`` characters of ``text``, and "…" when there was more."""
    return text if len(text) <= limit else text[:limit] + "…"


def shortened(text: str, inputs: Iterable[str] = ()) -> str:
    """``text`` with each long piece of user input cut short: every value of ``inputs`` (the
    request's address parts and query) wherever it appears, and anything quoted (“…” in
    Chinese, '…' in the English), which is what the archive's messages quote."""
    for value in sorted({v for v in inputs if len(v) > MAX_QUOTED}, key=len, reverse=True):
        text = text.replace(value, clip(value))
    text = _QUOTED_ZH.sub(lambda m: f"“{clip(m.group(1))}”", text)
    return _QUOTED_EN.sub(lambda m: f"'{clip(m.group(1))}'", text)


def request_inputs(request: Request) -> list[str]:
    """What the person put in the address: its path parts and query values."""
    values = [v for v in request.path_params.values() if isinstance(v, str)]
    return values + [v for _, v in request.query_params.multi_items()]


def _short_problem(problem: FieldProblem, inputs: Iterable[str]) -> FieldProblem:
    return dataclasses.replace(
        problem,
        message_zh=shortened(problem.message_zh, inputs),
        message_en=shortened(problem.message_en, inputs),
    )


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


def page_message(error: ArchiveError, inputs: Iterable[str] = ()) -> str:
    """What a page says of a refusal: each problem, or the message when they only repeat it
    (user input it quotes cut short, see :func:`shortened`)."""
    told = [p.message_zh for p in error.problems if p.message_zh != error.message_zh]
    return shortened("；".join(told) if told else error.message_zh, inputs)


def page_refusal(error: Exception, inputs: Iterable[str] = ()) -> tuple[int, str]:
    """(status, message) of a refusal as a page shows it; ``error`` is one of the archive's,
    a request a route could not read (a hand-made address), or the framework's own.
    ``inputs``: what the person put in the address (:func:`request_inputs`)."""
    if isinstance(error, ArchiveError):
        return error.http_status, page_message(error, inputs)
    if isinstance(error, RequestValidationError):
        return 422, _unreadable_request(error)
    if isinstance(error, HTTPException):
        return error.status_code, http_refusal(error)[1]
    return 500, APOLOGY_ZH


def _unreadable_request(error: RequestValidationError) -> str:
    """A page's words for a request a route could not read: where (the address or the form)
    and each part by the name the pages give it, never the parameter's code name."""
    told = []
    where = set()
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        source, name = (loc[0], loc[-1]) if len(loc) > 1 else ("body", "")
        where.add("地址" if source in ("path", "query") else "表单")
        label = _PARAM_ZH.get(name, "其中一项")
        if item["type"] == "missing":
            told.append(f"缺少{label}")
        else:
            told.append(f"{label}{_PYDANTIC_ZH.get(item['type'], '格式不对')}")
    return "、".join(w for w in ("地址", "表单") if w in where) + "有误：" + "；".join(told)


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
        inputs = request_inputs(request)
        return _body(
            error.http_status,
            error.code,
            shortened(error.message_zh, inputs),
            shortened(error.message_en, inputs),
            [_short_problem(p, inputs) for p in problems_of(error)],
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
