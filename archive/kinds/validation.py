"""Checking a whole document (or an amendment) against its kind, reporting every problem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from archive.errors import FieldProblem, ValidationFailed
from archive.kinds.fieldtypes import Context, Invalid, LinesInvalid, is_empty
from archive.kinds.registry import Kind

_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def number_problem(number: Any, kind: Kind) -> FieldProblem | None:
    if is_empty(number):
        return FieldProblem("number", f"{kind.number_label}必填", "number is required")
    if not isinstance(number, str) or not _NUMBER_RE.match(number.strip()):
        return FieldProblem(
            "number",
            f"{kind.number_label}只能由字母、数字、- _ . 组成，最长 40 位",
            "number may hold letters, digits, - _ . and at most 40 characters",
        )
    return None


def check_number(number: Any, kind: Kind) -> str:
    problem = number_problem(number, kind)
    if problem:
        raise ValidationFailed([problem])
    return str(number).strip()


def parse_fields(
    kind: Kind,
    data: Mapping[str, Any],
    ctx: Context,
    *,
    partial: bool = False,
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Parse ``data`` into typed values.

    With ``partial`` (an amendment) only the given fields are checked, and an empty value
    means "clear this field", which a required field refuses.
    """
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for code in data:
        if kind.field(code) is None:
            problems.append(
                FieldProblem(
                    code, f"{kind.label}没有“{code}”这一栏", f"{kind.code} has no field {code!r}"
                )
            )
    for spec in kind.fields:
        if partial and spec.code not in data:
            continue
        raw = data.get(spec.code)
        if is_empty(raw):
            if spec.required:
                problems.append(
                    FieldProblem(spec.code, f"{spec.label}必填", f"{spec.label_en} is required")
                )
            elif partial:
                values[spec.code] = None
            continue
        if _nested(raw, spec.type.kind):
            problems.append(
                FieldProblem(
                    spec.code,
                    f"{spec.label}：应为一个值，不能是列表或对象",
                    f"{spec.label_en}: must be a single value, not a list or an object",
                )
            )
            continue
        try:
            values[spec.code] = spec.type.parse(raw, ctx)
        except LinesInvalid as error:
            for path, zh, en in error.problems:
                problems.append(
                    FieldProblem(
                        f"{spec.code}.{path}", f"{spec.label}第 {path.split('.')[0]} 行 {zh}", en
                    )
                )
        except Invalid as error:
            problems.append(
                FieldProblem(spec.code, f"{spec.label}：{error.message_zh}", error.message_en)
            )
    return values, problems


# Only a line table (rows) and a list of staff take a list; no field takes an object. Anything
# else nested (JSON from the API) is refused here rather than read as its text.
_TAKES_A_LIST = frozenset({"lines", "staff_list"})


def _nested(raw: Any, type_kind: str) -> bool:
    if isinstance(raw, dict):
        return True
    if isinstance(raw, list):
        if type_kind not in _TAKES_A_LIST:
            return True
        if type_kind == "staff_list":
            return any(isinstance(item, (list, dict)) for item in raw)
    return False


def validate_document(
    kind: Kind, number: Any, data: Mapping[str, Any], ctx: Context
) -> tuple[str, dict[str, Any]]:
    """The number and typed fields of a new document, or :class:`ValidationFailed`."""
    problems: list[FieldProblem] = []
    problem = number_problem(number, kind)
    if problem:
        problems.append(problem)
    values, field_problems = parse_fields(kind, data, ctx)
    problems.extend(field_problems)
    problems.extend(date_order_problems(kind, values, ctx.tz))
    if problems:
        raise ValidationFailed(problems)
    return str(number).strip(), values


def date_order_problems(kind: Kind, values: Mapping[str, Any], tz: tzinfo) -> list[FieldProblem]:
    """The kind's ``not_before_business_date`` fields that fall before the business date
    (``values``: all the document's fields; a time counts by the dealership's clock)."""
    day = values.get("business_date")
    if not isinstance(day, date):
        return []
    problems = []
    for code in kind.not_before_business_date:
        value = values.get(code)
        when = value.astimezone(tz).date() if isinstance(value, datetime) else value
        spec = kind.field(code)
        if isinstance(when, date) and when < day and spec is not None:
            problems.append(
                FieldProblem(
                    code,
                    f"{spec.label}（{when.isoformat()}）早于单据日期 {day.isoformat()}，请核对",
                    f"{spec.label_en} ({when.isoformat()}) is before the business date "
                    f"({day.isoformat()})",
                )
            )
    return problems
