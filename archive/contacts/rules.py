"""When a car is due for periodic maintenance, and what a reminder's outcome or a greeting's
result may be.

A car is due ``maintenance_months`` after its last visit, or once it has run
``maintenance_km`` more kilometres, whichever comes first. Its pace (km a day) is its own:
from the first to the last visit that recorded a mileage, when they are at least 30 days
apart and the mileage grew; a car without such a pair is due by date only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from archive.contacts.settings import ReportSettings
from archive.contacts.visits import add_months

MIN_PACE_DAYS = 30  # two visits closer than this say little about a car's pace
REMINDER_OUTCOMES = (
    ("called", "已电话提醒"),
    ("letter_sent", "已寄邀请信"),
    ("booked", "已预约"),
    ("declined", "客户谢绝"),
)
OUTCOME_LABELS = dict(REMINDER_OUTCOMES)
# Reminder outcomes after which no invitation letter is sent: the customer has booked, or
# declined (a letter then would be a nuisance).
NO_INVITATION = ("booked", "declined")
GREETING_RESULTS = (
    ("sms", "已发短信"),
    ("called", "已电话问候"),
    ("no_answer", "未接通"),
    ("declined", "客户谢绝"),
)
RESULT_LABELS = dict(GREETING_RESULTS)


@dataclass(frozen=True)
class Due:
    """When a car is due, from its visits before some day."""

    last_visit: date
    last_km: int | None
    km_per_day: float | None
    by_date: date
    by_km: date | None

    @property
    def day(self) -> date:
        return min(self.by_date, self.by_km) if self.by_km else self.by_date

    @property
    def by(self) -> str:
        return "里程" if self.by_km is not None and self.by_km < self.by_date else "时间"


def due_of(visits: list[tuple[date, int | None]], settings: ReportSettings) -> Due | None:
    """When the car of these visits (date, mileage; oldest first) is due; None: no visit."""
    if not visits:
        return None
    last_day, last_km = visits[-1]
    by_date = add_months(last_day, settings.maintenance_months)
    with_km = [(d, km) for d, km in visits if km is not None]
    pace = None
    if len(with_km) >= 2 and last_km is not None:
        (first_day, first_km), (to_day, to_km) = with_km[0], with_km[-1]
        days = (to_day - first_day).days
        if days >= MIN_PACE_DAYS and to_km > first_km:
            pace = (to_km - first_km) / days
    by_km = None
    if pace is not None:
        by_km = last_day + timedelta(days=math.ceil(settings.maintenance_km / pace))
    return Due(last_day, last_km, round(pace, 1) if pace else None, by_date, by_km)


def due_days(visits: list[tuple[date, int | None]], settings: ReportSettings) -> list[date]:
    """Every date the car of these visits (oldest first) has been due on: after each day it
    came, from the visits up to that day (what the maintenance list of a month after it shows),
    oldest first. A reminder is recorded against one of these, never an invented date."""
    found: list[date] = []
    for i, (day, _) in enumerate(visits):
        if i + 1 < len(visits) and visits[i + 1][0] == day:
            continue  # the list counts all of a day's visits together
        due = due_of(visits[: i + 1], settings)
        if due is not None and due.day not in found:
            found.append(due.day)
    return found


def mileage_of(fields: dict[str, Any]) -> int | None:
    value = fields.get("mileage_km")
    return int(value) if value not in (None, "") else None
