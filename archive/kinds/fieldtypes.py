"""Typed fields of the document kinds: each parses what a person or a DMS typed into one value.

A parser returns the typed value (``Decimal`` for money, ``date``, an aware ``datetime``, ...)
or raises :class:`Invalid` with a Chinese and an English message. Empty input is handled by the
caller (required or not), so parsers only ever see something non-empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from archive.kinds.identifiers import (
    mobile_ok,
    normalize_phone,
    normalize_plate,
    plate_ok,
    vin_problem,
)
from archive.kinds.roles import ROLE_LABELS
from archive.kinds.text import text_problem

# Longer than any amount, count or mileage written out (with separators and a unit): beyond
# it Python's int() refuses the text (4,300 digits) and Decimal would work on it for nothing.
MAX_NUMBER_CHARS = 40


_PLAIN_DECIMAL = re.compile(r"\d{1,12}(\.\d{1,6})?")


class Invalid(Exception):
    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class StaffInfo:
    username: str
    name: str
    roles: tuple[str, ...]
    active: bool
    registration_no: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "name": self.name,
            "roles": list(self.roles),
            "registration_no": self.registration_no,
            "active": self.active,
        }


@dataclass
class Context:
    """What a parser may need beyond the raw text: the staff directory and the local zone."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    staff: Mapping[str, StaffInfo] = field(default_factory=dict)

    def find_staff(self, raw: str) -> StaffInfo | None:
        key = raw.strip()
        if key in self.staff:
            return self.staff[key]
        matches = self._by_name.get(key, ())
        return matches[0] if len(matches) == 1 else None

    @cached_property
    def _by_name(self) -> dict[str, list[StaffInfo]]:
        by_name: dict[str, list[StaffInfo]] = {}
        for person in self.staff.values():
            by_name.setdefault(person.name, []).append(person)
        return by_name


def is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw or raw.isspace()
    return raw == []


class FieldType:
    """Base of every field type. ``kind`` names the type for forms, API schemas and search."""

    kind = "text"

    def parse(self, raw: Any, ctx: Context) -> Any:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind}


@dataclass(frozen=True)
class Text(FieldType):
    max_length: int = 2000
    multiline: bool = False
    kind = "text"

    def parse(self, raw: Any, ctx: Context) -> str:
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise Invalid("应为文字", "must be text")
        # Browsers send a textarea's line breaks as CRLF; store them as plain newlines.
        value = str(raw).strip()
        if "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if len(value) > self.max_length:
            raise Invalid(
                f"不能超过 {self.max_length} 个字，现在 {len(value)} 个",
                f"at most {self.max_length} characters, got {len(value)}",
            )
        problem = text_problem(value, multiline=self.multiline)
        if problem is not None:
            raise Invalid(*problem)
        return value

    def describe(self) -> dict[str, Any]:
        return {"type": "text", "max_length": self.max_length, "multiline": self.multiline}


def _number_text(raw: Any) -> str:
    if isinstance(raw, bool):
        raise Invalid("应为数字", "must be a number")
    if isinstance(raw, int) and raw.bit_length() > 128:
        raise _too_long()  # str() of it would raise, past 4,300 digits
    if isinstance(raw, (int, float, Decimal)):
        text = str(raw)
    elif isinstance(raw, str):
        text = _drop_group_separators(raw.strip())
    else:
        raise Invalid("应为数字", "must be a number")
    if len(text) > MAX_NUMBER_CHARS:
        raise _too_long()
    return text


# A number with thousands separators: the commas only between groups of three digits before
# the point ("1,234.50", "12,345"), with whatever sign, currency or unit is around it.
_GROUPED = re.compile(r"(?P<head>[^\d,，]*)(?P<digits>\d[\d,，]*)(?P<tail>[^,，]*)")
_GROUPS = re.compile(r"\d{1,3}(?:[,，]\d{3})+")


def _drop_group_separators(text: str) -> str:
    """The text without its thousands separators, or Invalid when a comma is out of place.

    Deleting every comma made a mistyped "12,34" (meant 12.34) into 1234: a wrong amount saved
    without a word. Only well-placed separators are dropped; any other comma is refused.
    """
    if "," not in text and "，" not in text:
        return text
    if len(text) > MAX_NUMBER_CHARS:
        raise _too_long()
    parts = _GROUPED.fullmatch(text)
    if parts is None or not _GROUPS.fullmatch(parts["digits"]):
        raise Invalid(
            f"“{text}”中的逗号位置不对：逗号只能每三位一个（如 1,234.50），"
            "或不写逗号（如 1234.50）；小数请用小数点（12.34）",
            f"{text!r}: commas only between groups of three digits (1,234.50), or none (1234.50);"
            " use a point for decimals (12.34)",
        )
    return parts["head"] + re.sub("[,，]", "", parts["digits"]) + parts["tail"]


def _too_long() -> Invalid:
    return Invalid(
        f"数字太长（最多 {MAX_NUMBER_CHARS} 位）",
        f"the number is too long (at most {MAX_NUMBER_CHARS} characters)",
    )


@dataclass(frozen=True)
class Integer(FieldType):
    minimum: int = 0
    maximum: int = 1_000_000_000
    kind = "integer"

    def parse(self, raw: Any, ctx: Context) -> int:
        text = _number_text(raw)
        if not re.fullmatch(r"[+-]?\d+", text):
            raise Invalid(f"应为整数，不是“{text}”", f"must be a whole number, not {text!r}")
        value = int(text)
        if not self.minimum <= value <= self.maximum:
            raise Invalid(
                f"应在 {self.minimum} 到 {self.maximum} 之间",
                f"must be between {self.minimum} and {self.maximum}",
            )
        return value

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind, "minimum": self.minimum, "maximum": self.maximum}


_MILEAGE_UNITS = ("km", "KM", "公里", "千米")


@dataclass(frozen=True)
class Mileage(Integer):
    """Kilometres on the odometer: a whole, non-negative number; '12,345 km' is accepted."""

    maximum: int = 3_000_000
    kind = "mileage"

    def parse(self, raw: Any, ctx: Context) -> int:
        if isinstance(raw, str):
            # endswith, not a regex: "\s*km$" would take quadratic time on long blank runs.
            raw = raw.strip()
            unit = next((u for u in _MILEAGE_UNITS if raw.endswith(u)), "")
            raw = raw.removesuffix(unit).rstrip() if unit else raw
        text = _number_text(raw)
        if re.fullmatch(r"-\d+", text):
            raise Invalid("里程不能为负数", "mileage cannot be negative")
        return super().parse(text, ctx)


@dataclass(frozen=True)
class DecimalNumber(FieldType):
    places: int = 2
    maximum: Decimal = Decimal("100000000")
    kind = "decimal"

    def parse(self, raw: Any, ctx: Context) -> Decimal:
        if isinstance(raw, str) and _PLAIN_DECIMAL.fullmatch(raw):
            # The common case (what forms and exports send): no sign, unit or separators.
            value = Decimal(raw)
            quantised = value.quantize(self._quantum)
            if value == quantised and value <= self.maximum:
                return quantised
        if isinstance(raw, float):
            raw = repr(raw)
        text = _number_text(raw)
        if isinstance(raw, str):
            text = text.lstrip("¥￥").removesuffix("元").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise Invalid(f"应为数字，不是“{text}”", f"must be a number, not {text!r}") from None
        if not value.is_finite():
            raise Invalid("应为数字", "must be a number")
        if value < 0:
            raise Invalid("不能为负数", "cannot be negative")
        if value > self.maximum:
            raise Invalid(f"不能超过 {self.maximum}", f"cannot exceed {self.maximum}")
        # '120.5000' is fine (DMS exports pad with zeros); '120.505' is not.
        if value != value.quantize(self._quantum):
            raise Invalid(f"最多 {self.places} 位小数", f"at most {self.places} decimal places")
        return (value + 0).quantize(self._quantum)  # + 0 turns -0 into 0

    @cached_property
    def _quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind, "places": self.places, "minimum": "0"}


@dataclass(frozen=True)
class Money(DecimalNumber):
    """Yuan with two decimals, never negative."""

    maximum: Decimal = Decimal("10000000")
    kind = "money"


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass(frozen=True)
class Date(FieldType):
    kind = "date"

    def parse(self, raw: Any, ctx: Context) -> date:
        if isinstance(raw, datetime):
            return _check_year(raw.date())
        if isinstance(raw, date):
            return _check_year(raw)
        if not isinstance(raw, str):
            raise Invalid("应为日期，如 2026-11-03", "must be a date like 2026-11-03")
        text = raw.strip()
        if len(text) == 10 and text[4] == "-":
            try:  # the common case, ten times faster than strptime
                return _check_year(date.fromisoformat(text))
            except ValueError:
                pass
        for fmt in _DATE_FORMATS:
            try:
                return _check_year(datetime.strptime(text, fmt).date())
            except ValueError:
                continue
        raise Invalid(
            f"“{text}”不是有效日期，请写成 2026-11-03",
            f"{text!r} is not a valid date; use YYYY-MM-DD",
        )


def _check_year(value: date) -> date:
    if not 1990 <= value.year <= 2100:
        raise Invalid(f"年份 {value.year} 不合理", f"year {value.year} is implausible")
    return value


@dataclass(frozen=True)
class DateTime(FieldType):
    """A moment; without a zone it is read as local time (the dealership's zone)."""

    kind = "datetime"

    def parse(self, raw: Any, ctx: Context) -> datetime:
        if isinstance(raw, datetime):
            value = raw
        elif isinstance(raw, str):
            value = _parse_datetime(raw.strip())
        else:
            raise Invalid("应为时间，如 2026-11-03 14:30", "must be a date-time")
        if value.tzinfo is None:
            value = value.replace(tzinfo=ctx.tz)
        _check_year(value.date())
        return value.replace(microsecond=0)


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y年%m月%d日 %H:%M")


def _parse_datetime(text: str) -> datetime:
    iso = text.replace("/", "-").replace("T", " ")
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS:  # strptime also takes single-digit months and days
        try:
            return datetime.strptime(iso, fmt)
        except ValueError:
            continue
    raise Invalid(
        f"“{text}”不是有效时间，请写成 2026-11-03 14:30",
        f"{text!r} is not a valid date-time; use YYYY-MM-DD HH:MM",
    )


@dataclass(frozen=True)
class Choice(FieldType):
    """One of a fixed set; accepts the code or its Chinese label."""

    options: tuple[tuple[str, str], ...] = ()
    kind = "choice"

    def parse(self, raw: Any, ctx: Context) -> str:
        text = str(raw).strip()
        for code, label in self.options:
            if text in (code, label):
                return code
        allowed = "、".join(label for _, label in self.options)
        codes = ", ".join(code for code, _ in self.options)
        raise Invalid(f"“{text}”不是可选值，可选：{allowed}", f"{text!r} is not one of {codes}")

    def label_of(self, code: str) -> str:
        return dict(self.options).get(code, code)

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind, "options": [{"code": c, "label": z} for c, z in self.options]}


_TRUE = {"true", "1", "y", "yes", "是", "对", "√", "✓", "ok", "合格", "on"}
_FALSE = {"false", "0", "n", "no", "否", "不", "×", "✗", "不合格", "off"}


@dataclass(frozen=True)
class Boolean(FieldType):
    kind = "boolean"

    def parse(self, raw: Any, ctx: Context) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise Invalid(f"应为 是/否，不是“{raw}”", f"must be yes or no, not {raw!r}")


@dataclass(frozen=True)
class Vin(FieldType):
    kind = "vin"

    def parse(self, raw: Any, ctx: Context) -> str:
        vin = re.sub(r"\s", "", str(raw)).upper()
        problem = vin_problem(vin)
        if problem:
            raise Invalid(*problem)
        return vin


@dataclass(frozen=True)
class Plate(FieldType):
    kind = "plate"

    def parse(self, raw: Any, ctx: Context) -> str:
        plate = normalize_plate(str(raw))
        if not plate_ok(plate):
            raise Invalid(
                f"车牌“{raw}”格式不对，应为 省份简称 + 字母 + 5 位（新能源 6 位），如 京A12345",
                f"plate {raw!r} is malformed; expected province + letter + 5 (or 6) characters",
            )
        return plate


@dataclass(frozen=True)
class Phone(FieldType):
    kind = "phone"

    def parse(self, raw: Any, ctx: Context) -> str:
        phone = normalize_phone(str(raw))
        if not mobile_ok(phone):
            raise Invalid(
                f"手机号“{raw}”不对，应为 1 开头的 11 位数字",
                f"mobile number {raw!r} must be 11 digits starting with 1",
            )
        return phone


@dataclass(frozen=True)
class StaffRef(FieldType):
    """A staff member, typed as username or full name; stored as the username."""

    role: str | None = None
    kind = "staff"

    def parse(self, raw: Any, ctx: Context) -> str:
        return _staff(str(raw), self.role, ctx)

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind, "role": self.role}


@dataclass(frozen=True)
class StaffList(FieldType):
    """Several staff members: a JSON list or names separated by 、 , ， ; or spaces."""

    role: str | None = None
    kind = "staff_list"

    def parse(self, raw: Any, ctx: Context) -> list[str]:
        items = raw if isinstance(raw, list) else re.split(r"[、,，;；\s]+", str(raw).strip())
        result: list[str] = []
        for item in items:
            if is_empty(item):
                continue
            username = _staff(str(item), self.role, ctx)
            if username not in result:
                result.append(username)
        if not result:
            raise Invalid("至少填写一人", "name at least one person")
        return result

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind, "role": self.role}


def _staff(raw: str, role: str | None, ctx: Context) -> str:
    person = ctx.find_staff(raw)
    if person is None:
        raise Invalid(f"找不到员工“{raw.strip()}”", f"no staff member {raw.strip()!r}")
    if not person.active:
        raise Invalid(f"{person.name} 已停用", f"{person.username} is deactivated")
    if role and role not in person.roles:
        raise Invalid(
            f"{person.name} 不是{ROLE_LABELS.get(role, role)}",
            f"{person.username} does not hold the role {role}",
        )
    return person.username


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    label_en: str
    type: FieldType
    required: bool = False


@dataclass(frozen=True)
class Lines(FieldType):
    """A line table (labour lines, parts lines, checklist items).

    Accepts a list of objects, a JSON array, or text with one line per ``;`` and the columns
    in declared order separated by ``|`` (what a DMS export cell can carry).
    """

    columns: tuple[Column, ...] = ()
    max_lines: int = 200
    kind = "lines"

    @cached_property
    def _codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.columns)

    def parse(self, raw: Any, ctx: Context) -> list[dict[str, Any]]:
        rows = self._rows(raw)
        if len(rows) > self.max_lines:
            raise Invalid(f"最多 {self.max_lines} 行", f"at most {self.max_lines} lines")
        problems: list[tuple[str, str, str]] = []
        result: list[dict[str, Any]] = []
        for index, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise Invalid(f"第 {index} 行格式不对", f"line {index} is not an object")
            if all(is_empty(v) for v in row.values()):
                continue  # a blank line left in a form is not an error
            unknown = row.keys() - self._codes
            if unknown:
                problems.append(
                    (f"{index}", f"有未知的列 {', '.join(sorted(unknown))}", "unknown columns")
                )
            parsed: dict[str, Any] = {}
            for column in self.columns:
                value = row.get(column.code)
                if isinstance(value, (list, dict)):  # a cell holds one value, never a table
                    problems.append(
                        (
                            f"{index}.{column.code}",
                            f"{column.label}：应为一个值，不能是列表或对象",
                            f"{column.label_en}: must be a single value",
                        )
                    )
                    continue
                if is_empty(value):
                    if column.required:
                        problems.append(
                            (
                                f"{index}.{column.code}",
                                f"{column.label}必填",
                                f"{column.label_en} is required",
                            )
                        )
                    continue
                try:
                    parsed[column.code] = column.type.parse(value, ctx)
                except Invalid as error:
                    problems.append(
                        (
                            f"{index}.{column.code}",
                            f"{column.label}：{error.message_zh}",
                            f"{column.label_en}: {error.message_en}",
                        )
                    )
            result.append(parsed)
        if problems:
            raise LinesInvalid(problems)
        return result

    def _rows(self, raw: Any) -> list[Any]:
        if isinstance(raw, list):
            return raw
        text = str(raw).strip()
        if text.startswith("["):
            try:
                rows = json.loads(text)
            except json.JSONDecodeError as error:
                raise Invalid("明细不是有效的 JSON", f"lines are not valid JSON: {error}") from None
            except RecursionError:  # "[[[[…" thousands deep: no line table is nested
                raise Invalid("明细嵌套太深", "lines are nested too deeply") from None
            if not isinstance(rows, list):
                raise Invalid("明细应为列表", "lines must be a list")
            return rows
        rows = []
        for line in filter(None, (part.strip() for part in re.split(r"[;；\n]", text))):
            cells = [cell.strip() for cell in line.split("|")]
            if len(cells) > len(self.columns):
                raise Invalid(
                    f"“{line}”的列数多于 {len(self.columns)}",
                    f"{line!r} has more than {len(self.columns)} columns",
                )
            rows.append(dict(zip((c.code for c in self.columns), cells, strict=False)))
        return rows

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "columns": [
                {"code": c.code, "label": c.label, "required": c.required, **c.type.describe()}
                for c in self.columns
            ],
        }


class LinesInvalid(Invalid):
    """Problems in single cells of a line table, each with its ``line.column`` path."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(problems[0][1], problems[0][2])
        self.problems = problems
