"""The desk's calendar: working days and hours in Beijing time, and moving through them.

The after-sales desk of the demo works Monday to Saturday, 08:30-18:30 Asia/Shanghai. Every
simulated moment is a local aware ``datetime`` until it becomes an operation's UTC timestamp.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
OPEN = time(8, 30)
CLOSE = time(18, 30)


def parse_month(month: str) -> date:
    """The first day of ``YYYY-MM``."""
    try:
        year, mon = (int(part) for part in month.split("-"))
        return date(year, mon, 1)
    except ValueError:
        raise ValueError(f"month must look like 2026-10, not {month!r}") from None


def last_complete_month(now: datetime, tz: tzinfo = TZ) -> str:
    """``YYYY-MM`` of the month before the one ``now`` falls in, in zone ``tz``."""
    first = now.astimezone(tz).date().replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


def is_working(day: date) -> bool:
    return day.weekday() != 6  # closed on Sundays


class Desk:
    """Working days of one month (and the weeks after it, where late paperwork spills)."""

    def __init__(self, month: str) -> None:
        self.first = parse_month(month)
        after = (self.first + timedelta(days=32)).replace(day=1)
        self.last = after - timedelta(days=1)
        self.days = [
            self.first + timedelta(days=i)
            for i in range((self.last - self.first).days + 1)
            if is_working(self.first + timedelta(days=i))
        ]

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=TZ)

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, OPEN, tzinfo=TZ)

    def closing(self, day: date) -> datetime:
        return datetime.combine(day, CLOSE, tzinfo=TZ)

    def next_day(self, day: date, count: int = 1) -> date:
        """The ``count``-th working day after ``day``."""
        while count > 0:
            day += timedelta(days=1)
            if is_working(day):
                count -= 1
        return day

    def on_or_after(self, day: date) -> date:
        return day if is_working(day) else self.next_day(day)

    def moment(
        self, rng: random.Random, day: date, start: str = "08:30", end: str = "18:30"
    ) -> datetime:
        """A random minute of ``day`` between ``start`` and ``end`` (HH:MM)."""
        low = _minutes(start)
        high = _minutes(end)
        minute = rng.randrange(low, high)
        return self.at(day, minute // 60, minute % 60)

    def after(self, moment: datetime, minutes: int) -> datetime:
        """``minutes`` of working time after ``moment``, carried over closing time and Sundays."""
        moment = self.clamp(moment)
        while True:
            left = int((self.closing(moment.date()) - moment).total_seconds() // 60)
            if minutes < left:
                return moment + timedelta(minutes=minutes)
            minutes -= left
            moment = self.opening(self.next_day(moment.date()))

    def clamp(self, moment: datetime) -> datetime:
        """The moment itself if the desk is open then, else the next opening."""
        day = moment.date()
        if not is_working(day) or moment >= self.closing(day):
            return self.opening(self.next_day(day))
        if moment < self.opening(day):
            return self.opening(day)
        return moment


def to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)
