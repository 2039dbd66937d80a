"""The query language clerks and auditors type, parsed into a small tree any engine can run.

    刹车 kind:warranty_claim month:2026-11 -flag:voided
    vin:042788  plate:A12345  phone:8000  staff:王强  signer:li
    date:2026-11-01..2026-11-15  status:待签字  flag:amended  history:yes  sort:date

Free words must all match (each in any field); filters of the same key are alternatives;
``-`` negates a word or filter. A voided document is found only when the query asks for it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from events.errors import BadInput, FieldProblem
from projections.search.keys import digits, normalize_plate, plate_tail


class QueryError(BadInput):
    """A search that cannot be read; the problem is the query box (``q``) as a whole."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(
            "bad_query", message_zh, message_en, [FieldProblem("q", message_zh, message_en)]
        )


# -- the tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Words to find anywhere in a document (text, names, numbers, VIN, plate, phone)."""

    words: str


@dataclass(frozen=True)
class Term:
    """An exact value of an index field (kind, vin6, plate_tail, status, flags, ...)."""

    field: str
    value: str


@dataclass(frozen=True)
class DateRange:
    field: str
    start: date
    end: date


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Text | Term | DateRange | AnyOf | AllOf | Not


@dataclass(frozen=True)
class Query:
    """A parsed query: the tree, and how to run it."""

    where: AllOf
    history: bool = False
    sort: str = "relevance"  # or "date"
    has_text: bool = False


# -- vocabulary --------------------------------------------------------------------------------

STATUS_ALIASES = {
    "待签字": "awaiting_signatures",
    "未签齐": "awaiting_signatures",
    "已签齐": "complete",
    "完成": "complete",
    "已上报": "submitted",
    "已作废": "voided",
    "作废": "voided",
}
STATUSES = {"awaiting_signatures", "complete", "submitted", "voided"}
FLAG_ALIASES = {
    "已修改": "amended",
    "修改": "amended",
    "签后修改": "amended_after_signature",
    "签字后修改": "amended_after_signature",
    "作废": "voided",
    "已作废": "voided",
    "迟交": "late",
    "逾期": "late",
    "补录": "late",
    "已上报": "submitted",
    "上报逾期": "late_submission",
    "逾期上报": "late_submission",
    "待上报": "submission_due",
    "未关联": "unlinked",
    "里程不符": "mileage_mismatch",
    "再次索赔": "further_claim",
    "代签": "on_behalf",
    "撤回上报": "submission_withdrawn",
}
FLAGS = {
    "amended",
    "amended_after_signature",
    "voided",
    "late",
    "submitted",
    "late_submission",
    "submission_due",
    "unlinked",
    "mileage_mismatch",
    "further_claim",
    "on_behalf",
    "submission_withdrawn",
}
YES = {"yes", "y", "true", "1", "是"}

FILTER_KEYS = {
    "kind",
    "vin",
    "plate",
    "phone",
    "staff",
    "signer",
    "status",
    "month",
    "date",
    "flag",
    "history",
    "sort",
    "number",
}
_KEY_RE = re.compile(r"^(-?)([a-z_]+):(.*)$")
# A real month (01-12): "month:2026-99" matches no document, which read as "nothing found".
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# How deep a search may page. An engine gathers the best ``offset + page_size`` hits before
# it skips to the page: Tantivy allocates room for them at once, and page 100,000,000 aborted
# the whole server (a failed allocation is no exception). No one reads past 100,000 hits.
MAX_OFFSET = 100_000


def check_page(page: int, page_size: int) -> None:
    """Refuse a page beyond :data:`MAX_OFFSET` hits (or before the first) as a query error."""
    if page < 1 or page_size < 1 or (page - 1) * page_size > MAX_OFFSET:
        raise QueryError(
            f"页码超出范围（最多看到第 {MAX_OFFSET:,} 条），请加上条件缩小范围",
            f"page out of range: at most {MAX_OFFSET} hits are paged through",
        )


def parse(text: str, kind_aliases: Mapping[str, str] | None = None) -> Query:
    """Parse ``text``; :class:`QueryError` says in Chinese and English what is wrong."""
    try:
        tokens = shlex.split(text or "", posix=True)
    except ValueError:
        raise QueryError("引号没有配对", "unbalanced quotes") from None
    aliases = kind_aliases or {}
    words: list[Node] = []
    grouped: dict[str, list[Node]] = {}
    negated: list[Node] = []
    history = False
    sort = ""
    asked_voided = False
    for token in tokens:
        match = _KEY_RE.match(token)
        if not match or match.group(2) not in FILTER_KEYS:
            if match and match.group(2) not in FILTER_KEYS and match.group(3):
                raise QueryError(
                    f"不认识的筛选条件“{match.group(2)}:”，可用：{'、'.join(sorted(FILTER_KEYS))}",
                    f"unknown filter {match.group(2)!r}",
                )
            negate = token.startswith("-") and len(token) > 1
            node: Node = Text(token[1:] if negate else token)
            (negated if negate else words).append(node)
            continue
        negate, key, value = match.group(1) == "-", match.group(2), match.group(3).strip()
        if not value:
            raise QueryError(f"“{key}:”后面缺少内容", f"{key}: needs a value")
        if key == "history":
            history = value.lower() in YES
            continue
        if key == "sort":
            if value not in ("date", "relevance", "日期", "相关度"):
                raise QueryError("排序只能是 sort:date 或 sort:relevance", "sort: date|relevance")
            sort = "date" if value in ("date", "日期") else "relevance"
            continue
        node = _filter(key, value, aliases)
        if not negate and (
            (key == "status" and node == Term("status", "voided"))
            or (key == "flag" and node == Term("flags", "voided"))
        ):
            asked_voided = True
        if negate:
            negated.append(node)
        else:
            grouped.setdefault(key, []).append(node)
    parts: list[Node] = list(words)
    for nodes in grouped.values():
        parts.append(nodes[0] if len(nodes) == 1 else AnyOf(tuple(nodes)))
    parts.extend(Not(n) for n in negated)
    if not asked_voided:
        parts.append(Not(Term("doc_voided", "yes")))
    return Query(
        where=AllOf(tuple(parts)),
        history=history,
        sort=sort or ("relevance" if words else "date"),
        has_text=bool(words),
    )


def _filter(key: str, value: str, kind_aliases: Mapping[str, str]) -> Node:
    if key == "kind":
        code = kind_aliases.get(value, value)
        return Term("kind", code)
    if key == "vin":
        vin = re.sub(r"\s", "", value).upper()
        if len(vin) == 17:
            return Term("vin", vin)
        if len(vin) in (6, 8):
            return Term(f"vin{len(vin)}", vin)
        raise QueryError(
            "VIN 请输入完整 17 位，或后 6 位、后 8 位", "vin: give all 17 or the last 6 or 8"
        )
    if key == "plate":
        plate = normalize_plate(value)
        tail = plate_tail(plate)
        return Term("plate", plate) if tail != plate else Term("plate_tail", plate)
    if key == "phone":
        number = digits(value)
        if len(number) == 11:
            return Term("phone", number)
        if len(number) == 4:
            return Term("phone4", number)
        raise QueryError("手机号请输入 11 位或后 4 位", "phone: give 11 digits or the last 4")
    if key in ("staff", "signer"):
        return Term(key, value.lower())
    if key == "number":
        return Term("number", value.lower())
    if key == "status":
        status = STATUS_ALIASES.get(value, value)
        if status not in STATUSES:
            raise QueryError(
                f"状态“{value}”不存在，可用：待签字、已签齐、已上报、已作废",
                f"unknown status {value!r}",
            )
        return Term("status", status)
    if key == "flag":
        flag = FLAG_ALIASES.get(value, value)
        if flag not in FLAGS:
            raise QueryError(
                f"标记“{value}”不存在，可用：已修改、签后修改、已作废、迟交、已上报、上报逾期、"
                "待上报、未关联、里程不符、再次索赔、代签、撤回上报",
                f"unknown flag {value!r}",
            )
        return Term("flags", flag)
    if key == "month":
        if not _MONTH_RE.fullmatch(value):
            raise QueryError(
                f"“{value}”不是月份，月份请写成 2026-11", f"month: {value!r} is not YYYY-MM"
            )
        return Term("month", value)
    if key == "date":
        return _date_range(value)
    raise AssertionError(key)  # pragma: no cover - FILTER_KEYS and this function agree


def _date_range(value: str) -> DateRange:
    start_text, dots, end_text = value.partition("..")
    try:
        start = date.fromisoformat(start_text) if start_text else date(1990, 1, 1)
        # "date:2026-11-05" is that day; "date:2026-11-05.." has no end.
        open_end = date(2100, 1, 1) if dots else start
        end = date.fromisoformat(end_text) if end_text else open_end
    except ValueError:
        raise QueryError(
            "日期请写成 2026-11-01 或 2026-11-01..2026-11-15",
            "date: YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD",
        ) from None
    if end < start:
        raise QueryError("结束日期早于开始日期", "the range ends before it starts")
    return DateRange("business_date", start, end)
