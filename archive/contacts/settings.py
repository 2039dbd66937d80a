"""The customer reports' knobs: when a customer counts as lapsed, when a car is due for
maintenance, whom to greet before which holiday.

Read like the deadline days (``archive.config.report_options``): ``[reports]`` in
``$ARCHIVE_HOME/settings.toml``, then any ``ARCHIVE_REPORTS_<NAME>`` variable
(``ARCHIVE_REPORTS_CHURN_MONTHS=6``). Holidays are ``[reports.holidays]``:
``"2029-spring" = "2029-02-13"`` (a code ``YEAR-NAME`` of the known names takes its Chinese
name) or ``"2029-store" = {name = "店庆", date = "2029-05-18"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.config import Settings

# The Chinese names of the holidays a code's second part names.
HOLIDAY_NAMES = {
    "newyear": "元旦",
    "spring": "春节",
    "labour": "劳动节",
    "midautumn": "中秋节",
    "national": "国庆节",
}
# 春节 and 中秋 follow the lunar calendar: their dates are written out, year by year.
LUNAR = {
    2025: {"spring": "2025-01-29", "midautumn": "2025-10-06"},
    2026: {"spring": "2026-02-17", "midautumn": "2026-09-25"},
    2027: {"spring": "2027-02-06", "midautumn": "2027-09-15"},
    2028: {"spring": "2028-01-26", "midautumn": "2028-10-03"},
}


@dataclass(frozen=True)
class Holiday:
    code: str  # "2027-spring": the key greetings are recorded under
    name: str  # 春节
    day: date

    @property
    def label(self) -> str:
        return f"{self.day.year} {self.name}（{self.day:%m-%d}）"


def default_holidays() -> tuple[Holiday, ...]:
    found = []
    for year, lunar in LUNAR.items():
        days = {
            "newyear": f"{year}-01-01",
            "labour": f"{year}-05-01",
            "national": f"{year}-10-01",
            **lunar,
        }
        found += [
            Holiday(f"{year}-{k}", HOLIDAY_NAMES[k], date.fromisoformat(v)) for k, v in days.items()
        ]
    return tuple(sorted(found, key=lambda h: h.day))


@dataclass(frozen=True)
class ReportSettings:
    churn_months: int = 12  # no visit for this long: lapsed
    maintenance_months: int = 6  # periodic maintenance every so many months ...
    maintenance_km: int = 5000  # ... or kilometres, whichever comes first
    greeting_months: int = 12  # greet the customers who visited within this many months
    holidays: tuple[Holiday, ...] = field(default_factory=default_holidays)

    def holiday(self, code: str) -> Holiday | None:
        return next((h for h in self.holidays if h.code == code), None)


_NUMBERS = {
    "churn_months": (1, 60),
    "maintenance_months": (1, 36),
    "maintenance_km": (500, 100000),
    "greeting_months": (1, 60),
}


def report_settings(settings: Settings) -> ReportSettings:
    """The report settings of an archive, checked (``ValueError`` naming the bad one)."""
    options = settings.reports
    values: dict[str, int] = {}
    for name, (low, high) in _NUMBERS.items():
        raw = options.get(name)
        if raw is None or raw == "":
            continue
        where = f"[reports] {name} / ARCHIVE_REPORTS_{name.upper()}"
        try:
            number = int(str(raw))
        except ValueError:
            raise ValueError(f"{where}: a whole number, not {raw!r}") from None
        if not low <= number <= high:
            raise ValueError(f"{where}: between {low} and {high}, not {number}")
        values[name] = number
    holidays = options.get("holidays")
    if isinstance(holidays, Mapping) and holidays:
        return ReportSettings(**values, holidays=_holidays(holidays))
    return ReportSettings(**values)


def _holidays(table: Mapping[str, object]) -> tuple[Holiday, ...]:
    found = []
    for code, value in table.items():
        where = f"[reports.holidays] {code}"
        spec = value if isinstance(value, Mapping) else {"date": value}
        name = spec.get("name") or HOLIDAY_NAMES.get(code.partition("-")[2]) or code
        try:
            day = date.fromisoformat(str(spec.get("date")))
        except ValueError:
            raise ValueError(f"{where}: a date YYYY-MM-DD, not {spec.get('date')!r}") from None
        found.append(Holiday(str(code), str(name), day))
    return tuple(sorted(found, key=lambda h: h.day))
