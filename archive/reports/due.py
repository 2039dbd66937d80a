"""Which of the desk's reports are due on a day, each with a link to the period it is due for,
and a link to every report (the dashboard's 报表 card).

- ``daily`` (日报): every working day, for that day, before the service manager leaves;
- ``monday`` (周回访报告): on Monday, for the week before;
- ``month_3rd`` (满意度、投诉、流失率、服务费用): on the 3rd, for the month before.

The desk works Monday to Saturday: a report due on a Sunday 3rd is due on the 4th instead.
Nothing is stored: tomorrow's list follows from tomorrow's date.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from archive.reports.model import Period, ReportSpec
from archive.reports.periods import (
    day_period,
    month_period,
    period_title,
    shifted,
    spec_default,
    week_period,
)
from archive.reports.run import DUE_LABELS, available_specs


def is_working(day: date) -> bool:
    return day.weekday() != 6  # the desk is closed on Sundays


def _third_or_next(day: date) -> bool:
    """Whether ``day`` is the month's 3rd, or the 4th after a closed Sunday 3rd."""
    third = day.replace(day=3)
    return day == (third if is_working(third) else third + timedelta(days=1))


def due_period(spec: ReportSpec, day: date) -> Period | None:
    """The period ``spec`` is due for on ``day``, or None when it is not due that day."""
    if not is_working(day):
        return None
    if spec.due == "daily":
        return day_period(day) if "day" in spec.periods else None
    if spec.due == "monday" and day.weekday() == 0:
        return shifted(week_period(day), -1) if "week" in spec.periods else None
    if spec.due == "month_3rd" and _third_or_next(day) and "month" in spec.periods:
        return shifted(month_period(day.year, day.month), -1)
    return None


def report_url(name: str, period: Period) -> str:
    return f"/reports/{name}?{urlencode({period.kind: period.label})}"


def _entry(spec: ReportSpec, period: Period) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": spec.title,
        "period": period.label,
        "period_kind": period.kind,
        "period_title": period_title(period),
        "due": spec.due,
        "due_label": DUE_LABELS.get(spec.due or "", ""),
        "url": report_url(spec.name, period),
    }


def due_on(day: date) -> list[dict[str, Any]]:
    """The reports due on ``day``, in the catalog's order, each for its period."""
    due = []
    for spec in available_specs():
        period = due_period(spec, day)
        if period is not None:
            due.append(_entry(spec, period))
    return due


def with_due_reports(todo: dict[str, Any], day: date) -> dict[str, Any]:
    """A clerk's worklist (``archive.queries.worklists.worklist``) with the reports due on
    ``day``; anyone else's as it is."""
    if "clerk" in todo.get("roles", ()):
        todo["due_reports"] = due_on(day)
    return todo


def report_links(day: date) -> list[dict[str, Any]]:
    """Every report of the catalog, each opening on its usual period for ``day``."""
    return [_entry(s, spec_default(s, day)) for s in available_specs()]
