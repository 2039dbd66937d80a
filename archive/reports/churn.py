"""客户流失率 (report 5): the customers who stopped coming, month by month and by service
advisor, the reasons they gave when called, and whom to call.

With P the configured period (``churn_months``) and E the day after the period asked for:
a customer is *active before* E when he had a visit (a live work order) in the P months
before E − P, and *lapsed* at E when, active before, he had no visit in the P months up to E.
The rate is lapsed / active before. A month's trend point is the same count at that month's
end, so each point compares two windows of P months and a customer lapses in one month only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from archive.contacts.settings import report_settings
from archive.contacts.visits import add_months, card_fields, staff_names
from archive.kinds.registry import CHURN_REASONS
from archive.reports.model import (
    Chart,
    Column,
    Figure,
    Period,
    Report,
    ReportSource,
    ReportSpec,
    Series,
    Table,
)
from archive.reports.periods import month_period, shifted

TITLE = "客户流失率"
REASON_LABELS = dict(CHURN_REASONS)

LIST_COLUMNS = (
    Column("customer", "客户"),
    Column("phone", "电话"),
    Column("car", "车辆"),
    Column("last_visit", "上次到店", "date"),
    Column("advisor", "服务顾问"),
    Column("reason", "流失原因"),
    Column("reason_date", "原因登记日期", "date"),
)
ADVISOR_COLUMNS = (
    Column("advisor", "服务顾问"),
    Column("active", "期初客户（人）", "int"),
    Column("lapsed", "流失（人）", "int"),
    Column("rate", "流失率", "percent"),
)
TREND_COLUMNS = (
    Column("month", "月份"),
    Column("active", "期初客户（人）", "int"),
    Column("lapsed", "流失（人）", "int"),
    Column("rate", "流失率", "percent"),
)
REASON_COLUMNS = (Column("reason", "流失原因"), Column("count", "次数", "int"))


def _rate(lapsed: int, active: int) -> float | None:
    return lapsed / active if active else None


def split(days: dict[str, list[date]], end: date, months: int) -> tuple[set[str], set[str]]:
    """(active before, lapsed) at ``end`` from each customer's visit days."""
    cut, start = add_months(end, -months), add_months(end, -2 * months)
    active, lapsed = set(), set()
    for key, visits in days.items():
        if any(start <= d < cut for d in visits):
            active.add(key)
            if not any(cut <= d < end for d in visits):
                lapsed.add(key)
    return active, lapsed


def month_index(day: str) -> int:
    """'2026-11-03' -> 2026 * 12 + 10: months counted from year 0."""
    return int(day[:4]) * 12 + int(day[5:7]) - 1


def trend_counts(
    visited: dict[str, list[int]], ends: list[int], months: int
) -> dict[int, tuple[int, int]]:
    """Month-end index -> (active before, lapsed), from each customer's visited month indexes
    (sorted, distinct). The windows are whole months (E is a 1st), so a visit in month m makes
    its customer active at every E in (m + P, m + 2P], and lapsed there up to his next visit's
    month: counted per visit, not per customer and month end (a year's trend at once)."""
    low, high = ends[0], ends[-1]
    active = [0] * (high - low + 2)
    lapsed = [0] * (high - low + 2)

    def add(counts: list[int], first: int, last: int) -> None:
        first, last = max(first, low), min(last, high)
        if first <= last:
            counts[first - low] += 1
            counts[last - low + 1] -= 1

    for seen in visited.values():
        covered = low - 1  # the last month end already counted active for this customer
        for i, m in enumerate(seen):
            first, last = m + months + 1, m + 2 * months
            add(active, max(first, covered + 1), last)
            covered = max(covered, last)
            after = seen[i + 1] if i + 1 < len(seen) else last
            add(lapsed, first, min(last, after))
    result, running_a, running_l = {}, 0, 0
    for e in range(low, high + 1):
        running_a += active[e - low]
        running_l += lapsed[e - low]
        result[e] = (running_a, running_l)
    return result


def _trend_months(period: Period) -> list[Period]:
    last = period.last_day
    index = last.year * 12 + last.month - 1
    return [month_period(i // 12, i % 12 + 1) for i in range(index - 11, index + 1)]


def build(source: ReportSource, period: Period) -> Report:
    months = report_settings(source.archive.settings).churn_months
    trend = _trend_months(period)
    # One read of the visits the trend's windows hold; dates stay ISO text (they sort so).
    rows = source.models.contacts.query(
        "SELECT customer_key, business_date, doc_id FROM contact_visits WHERE voided = 0"
        " AND customer_key IS NOT NULL AND business_date >= ? AND business_date < ?"
        " ORDER BY business_date, position",
        (add_months(trend[0].end, -2 * months).isoformat(), period.end.isoformat()),
    )
    days: dict[str, list[date]] = defaultdict(list)
    visited: dict[str, list[int]] = defaultdict(list)
    last_before_cut: dict[str, str] = {}  # customer -> doc_id of his last visit before E − P
    cut = add_months(period.end, -months).isoformat()
    for row in rows:
        key, day = row["customer_key"], row["business_date"]
        month = month_index(day)
        if not visited[key] or visited[key][-1] != month:
            visited[key].append(month)
        if day < cut:
            last_before_cut[key] = row["doc_id"]
            days[key].append(date.fromisoformat(day))  # only the active may lapse
        elif key in last_before_cut and (not days[key] or days[key][-1].isoformat() < cut):
            days[key].append(date.fromisoformat(day))  # his first visit since the cut
    counts = trend_counts(visited, [month_index(m.end.isoformat()) for m in trend], months)
    points = [(m.label, *counts[month_index(m.end.isoformat())]) for m in trend]
    active, lapsed = split(days, period.end, months)
    fields = card_fields(source.models.vehicles, (last_before_cut[k] for k in active))
    names = staff_names(source)
    owner: dict[str, str] = {}  # customer -> the name of his advisor before the cut
    for key in active:
        advisor = fields[last_before_cut[key]].get("service_advisor") or ""
        owner[key] = names.get(advisor, advisor)
    reasons = source.models.contacts.churn_reasons(period.start.isoformat(), period.end.isoformat())
    latest = _latest_reasons(source, period.end)
    rows = []
    for key in sorted(
        lapsed, key=lambda k: (fields[last_before_cut[k]].get("business_date") or "", k)
    ):
        card = fields[last_before_cut[key]]
        reason = latest.get(key)
        rows.append(
            {
                "customer": card.get("customer_name"),
                "phone": key,
                "car": " ".join(str(card[c]) for c in ("plate", "model") if card.get(c)),
                "last_visit": card.get("business_date"),
                "advisor": owner[key],
                "reason": REASON_LABELS.get(reason[0]) if reason else None,
                "reason_date": reason[1] if reason else None,
            }
        )
    by_advisor: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key in active:
        by_advisor[owner[key] or "（未填）"][0] += 1
        by_advisor[owner[key] or "（未填）"][1] += key in lapsed
    counted = Counter(r["reason"] for r in reasons)
    first = _first_visit(source)
    short = _too_short(first, period.end, months)
    # A month whose windows reach back before the first visit has no rate to draw (its 期初
    # 客户 are missing, not none): no point, and no chart at all when no month has one.
    rates = [
        None if a == 0 or _too_short(first, m.end, months) else round(lp / a * 100, 1)
        for m, (_, a, lp) in zip(trend, points, strict=True)
    ]
    charts = [
        Chart(
            "trend",
            "近 12 个月流失率",
            "line",
            [label for label, _, _ in points],
            [Series("流失率", rates)],
            unit="%",
        )
    ]
    return source.report(
        SPEC,
        period,
        figures=[
            Figure("active", "期初客户（人）", len(active)),
            Figure("lapsed", "流失客户（人）", len(lapsed)),
            Figure("rate", "流失率", _rate(len(lapsed), len(active)), "percent")
            if short is None
            else Figure("rate", "流失率", "档案记录不足", "text"),
            Figure("reasons", "登记流失原因（次）", len(reasons)),
        ],
        charts=charts if any(r is not None for r in rates) else [],
        tables=[
            Table("lapsed", "流失客户回访名单", LIST_COLUMNS, rows, empty="没有流失客户"),
            Table(
                "advisors",
                "按服务顾问",
                ADVISOR_COLUMNS,
                [
                    {"advisor": name, "active": a, "lapsed": lp, "rate": _rate(lp, a)}
                    for name, (a, lp) in sorted(by_advisor.items())
                ],
                total={
                    "advisor": "合计",
                    "active": len(active),
                    "lapsed": len(lapsed),
                    "rate": _rate(len(lapsed), len(active)),
                },
            ),
            Table(
                "reasons",
                "流失原因（本期回访登记）",
                REASON_COLUMNS,
                [
                    {"reason": label, "count": counted[code]}
                    for code, label in CHURN_REASONS
                    if counted[code]
                ],
                total={"reason": "合计", "count": len(reasons)},
                empty="本期回访没有登记流失原因",
            ),
            Table(
                "trend",
                "按月流失率",
                TREND_COLUMNS,
                [
                    {"month": label, "active": a, "lapsed": lp, "rate": _rate(lp, a)}
                    for label, a, lp in points
                ],
            ),
        ],
        notes=[
            *([short] if short else []),
            f"流失：在截止日前 {months} 个月内没有到店（有效的维修委托书），而在此之前的 "
            f"{months} 个月内到过店的客户；截止日为本期最后一天的次日。",
            "流失率 = 流失客户 ÷ 期初客户（截止日前 "
            f"{2 * months} 个月至前 {months} 个月之间到过店的客户）。客户以手机号区分。",
            "每月的流失率按该月月底计算；服务顾问为客户在期初窗口内最后一次到店的接待顾问。",
            "流失原因：本期回访记录中登记的“流失原因”次数（作废的不计）；名单中显示该客户"
            "截止日前最近一次登记的原因。",
        ],
    )


def _first_visit(source: ReportSource) -> date | None:
    """The 1st of the month of the archive's first live visit with a customer (None: none yet):
    its history counts in whole months, as the desk does (the 1st may be a day off)."""
    rows = source.models.contacts.query(
        "SELECT MIN(business_date) AS first FROM contact_visits"
        " WHERE voided = 0 AND customer_key IS NOT NULL",
        (),
    )
    found = rows[0]["first"] if rows else None
    return date.fromisoformat(found).replace(day=1) if found else None


def _too_short(first: date | None, end: date, months: int) -> str | None:
    """Why the archive's history cannot give the churn at ``end`` (its windows start 2P months
    before it, earlier than the first visit), or None when it can."""
    needed = add_months(end, -2 * months)
    if first is not None and first <= needed:
        return None
    if first is None:
        return "档案中还没有到店记录，无法计算流失率。"
    ready = add_months(first, 2 * months)
    # The first month whose cut-off (the 1st after it) is on or after ``ready``.
    ready_month = month_period(ready.year, ready.month)
    if ready.day == 1:
        ready_month = shifted(ready_month, -1)
    return (
        f"档案的到店记录从 {first.year}年{first.month}月开始，而按流失期限 {months} 个月，"
        f"本期需要从 {needed.isoformat()} 起的记录（{2 * months} 个月）：档案记录不足，"
        "期初客户和流失率不完整，不作图。"
        f"要到 {ready_month.label} 及以后的月份（截止日不早于 {ready.isoformat()}）才有完整数字。"
    )


def _latest_reasons(source: ReportSource, end: date) -> dict[str, tuple[str, str]]:
    """customer -> (reason, date) of his latest callback with a reason before ``end``."""
    found: dict[str, tuple[str, str]] = {}
    for row in source.models.contacts.churn_reasons("0000-01-01", end.isoformat()):
        if row["customer_key"]:
            found[row["customer_key"]] = (row["reason"], row["business_date"])
    return found


SPEC = ReportSpec(
    name="churn",
    title=TITLE,
    periods=("month", "year"),
    build=build,
    due="month_3rd",
    summary="超过设定期限未到店的客户、按月和按服务顾问的流失率、流失原因和回访名单",
)
