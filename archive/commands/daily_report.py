"""The daily report (日报), drafted by the system from the day's work orders and checked
against them when filed.

"The day's work orders" are those whose business date (开单日期) is the day: every order has
one, an order is on exactly one day's report, and the report falls in the same month volume as
its orders. ``settled_at`` (结帐) is optional and may come days later, so it cannot decide.
An order's amount is its labour lines plus its parts lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from archive.bootstrap import Archive
from archive.commands.common import UNLINKED_HINT, caught_up_worklists, load_target
from archive.errors import Conflict, FieldProblem
from archive.kinds.links import OK, UNLINKED, Link, link_record
from archive.kinds.registry import REPAIR_TYPES, get_kind
from archive.queries.documents import today
from events.document import Document

_REPAIR_LABELS = dict(REPAIR_TYPES)
# A day of more orders than one report holds is reported in parts (the demo's long days).
_MAX_LINES = get_kind("daily_report").field("lines").type.max_lines  # type: ignore[union-attr]


def report_number(day: date) -> str:
    """The number the draft proposes: one report per day, ``DR20261103``."""
    return f"DR{day:%Y%m%d}"


def order_amount(fields: Mapping[str, Any]) -> Decimal:
    total = Decimal("0.00")
    for table in ("labour_lines", "parts_lines"):
        for row in fields.get(table) or []:
            total += Decimal(str(row.get("amount") or 0))
    return total


def day_orders(archive: Archive, day: date) -> list[Document]:
    """The live work orders of ``day`` (business date), by number."""
    return _live_of_day(archive, "work_order", day)


def _live_of_day(archive: Archive, kind: str, day: date) -> list[Document]:
    """The live documents of ``kind`` with business date ``day``, by number, from the event
    store; the worklists read model (caught up first) only says which they are."""
    with caught_up_worklists(archive) as worklists:
        rows = worklists.query(
            "SELECT number FROM wl_docs WHERE kind = ? AND business_date = ?"
            " AND voided = 0 ORDER BY number",
            (kind, day.isoformat()),
        )
    documents = [load_target(archive, kind, r["number"]) for r in rows]
    return [d for d in documents if d is not None and d.voided is None]


def draft_daily_report(archive: Archive, day: date) -> dict[str, Any]:
    """The report's values for ``day``, as a person would type them, for the clerk to review
    and file (``archive draft daily-report``, the web form)."""
    lines = [
        {
            "work_order_no": order.number,
            "plate": order.fields.get("plate"),
            "repair_type": order.fields.get("repair_type"),
            "amount": str(order_amount(order.fields)),
        }
        for order in day_orders(archive, day)
    ]
    lines = [{k: v for k, v in line.items() if v is not None} for line in lines]
    revenue = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
    return {
        "number": report_number(day),
        "business_date": day.isoformat(),
        "lines": lines,
        "work_order_count": len(lines),
        "revenue": str(revenue),
    }


def _problem(index: int, column: str, zh: str, en: str) -> FieldProblem:
    return FieldProblem(f"lines.{index}.{column}", f"第 {index} 行：{zh}", en, index)


def check_lines(
    archive: Archive,
    link: Link,
    values: Mapping[str, Any],
    unlinked: str,
    own_number: str | None = None,
) -> tuple[dict[str, Any] | None, list[FieldProblem]]:
    """Each line against its work order (exists, live, of the report's day, same plate, type
    and amount), the totals against the lines, and the report against its day (not after
    today, the only live report, every order of the day on it). A line naming no order in the
    system is accepted only with the unlinked reason (a report from before the system)."""
    lines = values.get(link.field) or []
    day = values.get("business_date")
    problems: list[FieldProblem] = []
    if isinstance(day, date):
        problems.extend(_against_day(archive, day, lines, own_number))
    missing: list[str] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(lines, start=1):
        number = str(line.get(link.column) or "")
        if number in seen:
            problems.append(
                _problem(
                    index,
                    link.column,
                    f"委托书 {number} 与第 {seen[number]} 行重复",
                    f"work order {number} repeats line {seen[number]}",
                )
            )
            continue
        seen[number] = index
        if line.get("amount") is None:
            problems.append(
                _problem(index, "amount", "请填写金额（工时加配件合计）", "amount is required")
            )
        order = load_target(archive, "work_order", number)
        if order is None:
            missing.append(number)
            if not unlinked:
                problems.append(
                    _problem(
                        index,
                        link.column,
                        f"没有维修委托书 {number}，请核对单号" + UNLINKED_HINT,
                        f"no work order {number}",
                    )
                )
            continue
        problems.extend(_line_against_order(index, line, order, day))
    problems.extend(_totals(values, lines))
    if missing:
        detail = f"{len(missing)} 行在系统中没有委托书：{'、'.join(missing[:10])}"
        return link_record(link, "work_order", None, UNLINKED, unlinked, detail), problems
    return link_record(link, "work_order", None, OK, detail=f"{len(lines)} 张委托书"), problems


def _against_day(
    archive: Archive, day: date, lines: list[Mapping[str, Any]], own_number: str | None
) -> list[FieldProblem]:
    """A report for a day to come is refused; so is a second live report of a day (unless the
    day's orders fill more than one report, when it is filed in parts) and one leaving out an
    order of the day filed by now (voided orders excluded). Refusals name what to do."""
    if day > today(archive):
        return [
            FieldProblem(
                "business_date",
                f"日期 {day.isoformat()} 还没到，不能报日报；请核对日期",
                f"{day.isoformat()} is after today",
            )
        ]
    others = [r for r in day_reports(archive, day) if r.number != own_number]
    orders = [o.number for o in day_orders(archive, day)]
    one_report = len(orders) <= _MAX_LINES
    if others and one_report:
        names = "、".join(r.number for r in others)
        raise Conflict(
            "daily_report_exists",
            f"{day.isoformat()} 已有日报 {names}，一天只报一份；"
            "如需更正请修改该日报，或先作废再重新存档",
            f"{day.isoformat()} already has daily report {', '.join(r.number for r in others)}",
        )
    listed = {str(line.get("work_order_no") or "") for line in lines}
    problems = []
    elsewhere = {n: r.number for r in others for n in _numbers(r)}
    for index, line in enumerate(lines, start=1):
        number = str(line.get("work_order_no") or "")
        if number in elsewhere:
            problems.append(
                _problem(
                    index,
                    "work_order_no",
                    f"委托书 {number} 已在日报 {elsewhere[number]} 中",
                    f"{number} is on daily report {elsewhere[number]}",
                )
            )
    missing = [n for n in orders if n not in listed and n not in elsewhere]
    if missing and one_report:
        shown = "、".join(missing[:20]) + ("等" if len(missing) > 20 else "")
        problems.append(
            FieldProblem(
                "lines",
                f"漏报委托书 {shown}（共 {len(missing)} 份）；请按系统草稿补上",
                f"work orders of the day missing: {', '.join(missing[:20])}",
            )
        )
    return problems


def _numbers(report: Document) -> set[str]:
    return {str(line.get("work_order_no") or "") for line in report.fields.get("lines") or []}


def day_reports(archive: Archive, day: date) -> list[Document]:
    """The live daily reports of ``day``."""
    return _live_of_day(archive, "daily_report", day)


def _line_against_order(
    index: int, line: Mapping[str, Any], order: Document, day: Any
) -> list[FieldProblem]:
    number, fields = order.number, order.fields
    if order.voided is not None:
        return [_problem(index, "work_order_no", f"委托书 {number} 已作废", f"{number} is voided")]
    problems: list[FieldProblem] = []
    order_day = fields.get("business_date")
    if isinstance(day, date) and order_day != day:
        shown = order_day.isoformat() if isinstance(order_day, date) else "未填"
        problems.append(
            _problem(
                index,
                "work_order_no",
                f"委托书 {number} 的开单日期是 {shown}，不是本日报的日期 {day.isoformat()}",
                f"{number} was opened on {shown}, not {day.isoformat()}",
            )
        )
    plate = line.get("plate")
    if plate and plate != fields.get("plate"):
        problems.append(
            _problem(
                index,
                "plate",
                f"车牌号 {plate} 与委托书 {number} 的 {fields.get('plate') or '（未填）'} 不一致",
                f"plate differs from {number}'s",
            )
        )
    kind = line.get("repair_type")
    if kind and kind != fields.get("repair_type"):
        ordered = _REPAIR_LABELS.get(fields.get("repair_type") or "", "（未填）")
        problems.append(
            _problem(
                index,
                "repair_type",
                f"类别“{_REPAIR_LABELS.get(kind, kind)}”与委托书 {number} 的“{ordered}”不一致",
                f"repair type differs from {number}'s",
            )
        )
    amount = line.get("amount")
    expected = order_amount(fields)
    if amount is not None and Decimal(amount) != expected:
        problems.append(
            _problem(
                index,
                "amount",
                f"金额 {amount} 元与委托书 {number} 的工时加配件合计 {expected} 元不一致",
                f"amount {amount} differs from {number}'s total {expected}",
            )
        )
    return problems


def _totals(values: Mapping[str, Any], lines: list[Mapping[str, Any]]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    count = values.get("work_order_count")
    if count is not None and count != len(lines):
        problems.append(
            FieldProblem(
                "work_order_count",
                f"委托书数 {count} 与明细行数 {len(lines)} 不一致",
                f"work_order_count {count} but {len(lines)} lines",
            )
        )
    revenue = values.get("revenue")
    total = sum((Decimal(line.get("amount") or 0) for line in lines), Decimal("0.00"))
    if revenue is not None and Decimal(revenue) != total:
        problems.append(
            FieldProblem(
                "revenue",
                f"产值 {revenue} 元与明细金额合计 {total} 元不一致",
                f"revenue {revenue} but the lines total {total}",
            )
        )
    return problems
