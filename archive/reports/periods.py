"""The spans a report is asked for, as typed on the command line or in a URL, and their titles.

``--day 2026-11-03``, ``--week 2026-W48`` (ISO 8601 weeks, Monday to Sunday), ``--month
2026-11``, ``--year 2026``. A span that does not exist (month 13, week 54 of a 52-week year) is
bad input with a Chinese message that says how to write it; so is one that starts before 1990
(the first year the fee commands take: nothing this archive holds is older) or, when the caller
says what day it is, after today (its figures do not exist yet).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from archive.errors import BadInput, FieldProblem
from archive.reports.model import Period, PeriodKind

if TYPE_CHECKING:
    from archive.reports.model import ReportSpec

KIND_LABELS: dict[PeriodKind, str] = {"day": "日", "week": "周", "month": "月", "year": "年"}
_EXAMPLES: dict[PeriodKind, str] = {
    "day": "2026-11-03",
    "week": "2026-W48",
    "month": "2026-11",
    "year": "2026",
}
_PATTERNS: dict[PeriodKind, re.Pattern[str]] = {
    "day": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    "week": re.compile(r"(\d{4})-[Ww](\d{1,2})"),
    "month": re.compile(r"(\d{4})-(\d{1,2})"),
    "year": re.compile(r"(\d{4})"),
}


EARLIEST = date(1990, 1, 1)


def bad_period(kind: str, text: str, why: str = "") -> BadInput:
    example = _EXAMPLES.get(kind, "2026-11")  # type: ignore[call-overload]
    zh = f"时间段“{text}”不对{('：' + why) if why else ''}；请写成 {example} 这样"
    en = f"bad {kind} {text!r}; write it as {example}"
    return BadInput("bad_period", zh, en, [FieldProblem(kind, zh, en)])


def parse_period(
    kind: str, text: str, today: date | None = None, reach: date | None = None
) -> Period:
    """The period of ``kind`` that ``text`` names; :class:`BadInput` if there is none, if it
    starts before 1990 or (``today`` given) after ``today``, or after ``reach`` for a report
    that looks ahead (whose default period, the next holidays, is still to come)."""
    period, text = _named(kind, text), text.strip()
    if period.start < EARLIEST:
        year = EARLIEST.year
        zh = f"时间段“{text}”太早：报表最早从 {year} 年起；请选 {year} 年及以后的"
        en = f"{kind} {text!r} starts before {year}"
        raise BadInput("bad_period", zh, en, [FieldProblem(kind, zh, en)])
    if today is not None:
        _not_after(period, text, today, max(today, reach or today))
    return period


def _not_after(period: Period, text: str, today: date, latest: date) -> None:
    if period.start <= latest:
        return
    ahead = f"，本报表最远可选 {latest.isoformat()} 开始的" if latest > today else ""
    zh = f"{period_title(period)}还没到（今天是 {today.isoformat()}{ahead}）；请选已经开始的时间段"
    en = f"{period.kind} {text!r} starts after {latest.isoformat()} (today: {today.isoformat()})"
    raise BadInput("bad_period", zh, en, [FieldProblem(period.kind, zh, en)])


def _named(kind: str, text: str) -> Period:
    if kind not in _PATTERNS:
        zh = f"没有“{kind}”这种时间段；可选：日、周、月、年"
        raise BadInput(
            "bad_period", zh, f"no period kind {kind!r}", [FieldProblem("period", zh, "")]
        )
    text = text.strip()
    found = _PATTERNS[kind].fullmatch(text)  # type: ignore[index]
    if found is None:
        raise bad_period(kind, text)
    numbers = [int(g) for g in found.groups()]
    try:
        if kind == "day":
            return day_period(date(*numbers))
        if kind == "week":
            year, week = numbers
            if not 1 <= week <= weeks_in_year(year):
                raise bad_period(kind, text, f"{year} 年只有 {weeks_in_year(year)} 周")
            return week_period(date.fromisocalendar(year, week, 1))
        if kind == "month":
            if not 1 <= numbers[1] <= 12:
                raise bad_period(kind, text, "月份应在 1 到 12 之间")
            return month_period(numbers[0], numbers[1])
        return year_period(numbers[0])
    except ValueError as error:  # a day 31 of a 30-day month, year 0
        raise bad_period(kind, text, "没有这一天") from error


def weeks_in_year(year: int) -> int:
    return date(year, 12, 28).isocalendar().week  # 28 December is always in the last week


def day_period(day: date) -> Period:
    return Period("day", day, day + timedelta(days=1), day.isoformat())


def week_period(any_day: date) -> Period:
    monday = any_day - timedelta(days=any_day.weekday())
    year, week, _ = monday.isocalendar()
    return Period("week", monday, monday + timedelta(days=7), f"{year}-W{week:02d}")


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    return Period("month", start, end, f"{year}-{month:02d}")


def year_period(year: int) -> Period:
    return Period("year", date(year, 1, 1), date(year + 1, 1, 1), f"{year:04d}")


def period_of(kind: PeriodKind, day: date) -> Period:
    """The period of ``kind`` that holds ``day``."""
    if kind == "day":
        return day_period(day)
    if kind == "week":
        return week_period(day)
    if kind == "month":
        return month_period(day.year, day.month)
    return year_period(day.year)


def shifted(period: Period, steps: int) -> Period:
    """The period ``steps`` before (negative) or after this one, of the same kind."""
    if period.kind == "day":
        return day_period(period.start + timedelta(days=steps))
    if period.kind == "week":
        return week_period(period.start + timedelta(days=7 * steps))
    if period.kind == "month":
        months = period.start.year * 12 + period.start.month - 1 + steps
        return month_period(months // 12, months % 12 + 1)
    return year_period(period.start.year + steps)


def default_period(kind: PeriodKind, today: date) -> Period:
    """What a report opens on: today for a day, the last complete week or month, the year of
    the last complete month (in January: last year, whose figures are final)."""
    if kind == "day":
        return day_period(today)
    if kind == "week":
        return shifted(week_period(today), -1)
    last_month = shifted(month_period(today.year, today.month), -1)
    return last_month if kind == "month" else year_period(last_month.start.year)


def spec_default(spec: ReportSpec, today: date) -> Period:
    """What ``spec`` opens on for ``today``: its own default if it has one, else the usual."""
    return spec.default(today) if spec.default else default_period(spec.periods[0], today)


def this_month(today: date) -> Period:
    return month_period(today.year, today.month)


def period_title(period: Period) -> str:
    """In Chinese: 2026年11月3日, 2026年第48周（11月23日至11月29日）, 2026年11月, 2026年."""
    start, last = period.start, period.last_day
    if period.kind == "day":
        return f"{start.year}年{start.month}月{start.day}日"
    if period.kind == "week":
        year, week, _ = start.isocalendar()
        return f"{year}年第{week}周（{start.month}月{start.day}日至{last.month}月{last.day}日）"
    if period.kind == "month":
        return f"{start.year}年{start.month}月"
    return f"{start.year}年"


def days(period: Period) -> list[date]:
    """Every day of the period, in order."""
    return [period.start + timedelta(days=i) for i in range((period.end - period.start).days)]
