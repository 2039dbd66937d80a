"""Reading a JSON body at the edge, within limits, so that no body can make the server fail.

Python's own ``json.loads`` takes whatever it is given: bytes that are not UTF-8 (FastAPI then
answers an English 400), a number of thousands of digits (``int()`` raises ValueError past
4,300), ``NaN`` and ``Infinity``, a lone surrogate such as ``\\ud800`` (which no database can
store), and nesting deep enough to raise RecursionError. Every body the API reads as JSON goes
through :func:`parse_json` first (see ``web.api.routing.ApiRequest``), which refuses each of
these as bad input naming the field ``body``, in Chinese and English.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from archive.errors import BadInput, FieldProblem

# The largest document (a work order with its line tables) is a few KB; a megabyte leaves
# room for long lists while bounding what one request may make the server hold and parse.
MAX_JSON_BYTES = 1024 * 1024
# Line tables nest three deep (body, table, row); twenty is far beyond any real body and far
# below Python's recursion limit, which the parser and the validators would otherwise hit.
MAX_DEPTH = 20
# Money has at most 2 decimals and mileage 7 digits; 40 characters keeps any real number
# and stops ``int()`` from spending quadratic time on (or refusing) thousands of digits.
MAX_NUMBER_CHARS = 40

# A JSON string (escapes included), unrolled so the regular expression runs in linear time.
# The closing quote is optional: with it required, a string left open made the expression
# fail and start again at every later quote, reading to the end each time (quadratic: an
# 80 KB body held the event loop for 18 s). An open string is refused by the parser anyway.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# What Python's JSON parser says (``JSONDecodeError.msg``), in Chinese: the message a clerk's
# integration shows must not be half English.
_JSON_ZH = {
    "Expecting value": "此处应有一个值",
    "Expecting property name enclosed in double quotes": "此处应有用双引号括起的名称",
    "Expecting ':' delimiter": "此处应有冒号“:”",
    "Expecting ',' delimiter": "此处应有逗号“,”",
    "Unterminated string starting at": "从此处开始的字符串没有结束引号",
    "Invalid control character at": "字符串中有控制字符",
    "Invalid \\escape": "无效的转义符",
    "Invalid \\uXXXX escape": "无效的 \\uXXXX 转义符",
    "Extra data": "JSON 结束后还有多余内容",
}


class BodyTooLarge(BadInput):
    """A body over the limit: 413 (Payload Too Large), as the counter's forms answer, not 422
    (a body that was read and found wrong)."""

    http_status = 413


def refused(code: str, message_zh: str, message_en: str) -> BadInput:
    """A refusal of the body as a whole (field ``body``, as FastAPI names a body's problems)."""
    return BadInput(code, message_zh, message_en, [FieldProblem("body", message_zh, message_en)])


def too_large() -> BadInput:
    zh = f"请求内容太大：超过 {MAX_JSON_BYTES // (1024 * 1024)} MB 的上限"
    en = f"payload too large: the body exceeds {MAX_JSON_BYTES} bytes"
    return BodyTooLarge("too_large", zh, en, [FieldProblem("body", zh, en)])


def parse_json(raw: bytes) -> Any:
    """The JSON value of ``raw``, or :class:`BadInput` saying what is wrong with it."""
    if len(raw) > MAX_JSON_BYTES:
        raise too_large()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise refused(
            "not_utf8",
            f"请求内容不是 UTF-8 编码的文字（第 {error.start + 1} 个字节）",
            f"the body is not valid UTF-8 (byte {error.start + 1})",
        ) from None
    _check_depth(text)
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_decimal, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise refused(
            "json_invalid",
            f"不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列："
            f"{_JSON_ZH.get(error.msg, '格式不对')}）",
            f"not valid JSON: {error}",
        ) from None
    _check_text(value)
    return value


def _check_depth(text: str) -> None:
    """Count brackets outside strings, without recursion (the parser would recurse)."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            raise refused(
                "too_deep",
                f"JSON 嵌套超过 {MAX_DEPTH} 层",
                f"the JSON nests deeper than {MAX_DEPTH} levels",
            )


def _long_number(text: str) -> BadInput:
    return refused(
        "number_too_long",
        f"数字“{text[:20]}…”超过 {MAX_NUMBER_CHARS} 位",
        f"a number longer than {MAX_NUMBER_CHARS} characters",
    )


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _long_number(text)
    return int(text)


def _decimal(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _long_number(text)
    value = float(text)
    if not math.isfinite(value):  # 1e999: no amount or mileage is infinite
        raise refused("number_too_large", f"数字 {text} 太大", f"the number {text} is too large")
    return value


def _constant(name: str) -> Any:
    raise refused(
        "json_invalid", f"不是有效的 JSON：{name} 不是数字", f"not valid JSON: {name} is no number"
    )


def _check_text(value: Any) -> None:
    """No lone surrogate in any key or string: it cannot be stored as UTF-8 (bounded recursion:
    the depth was checked above)."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise refused(
                "invalid_text",
                "文字中有无效的字符（单独的代理码位，如 \\ud800）",
                "a string holds a lone surrogate (such as \\ud800)",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
