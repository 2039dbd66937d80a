"""What a report is made of, whatever it is shown on: headline figures, tables, charts, notes.

A report module computes a :class:`Report` from the read models for a :class:`Period`; the
page, the PDF, the spreadsheet and ``--json`` each render the same object, so the numbers a
person reads on the page are the numbers in the file he downloads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from archive.bootstrap import Archive, ReadModels

PeriodKind = Literal["day", "week", "month", "year"]
# How a value is shown (page, PDF) and typed (spreadsheet cell format).
ValueKind = Literal["text", "int", "money", "percent", "score", "date", "datetime", "days"]


@dataclass(frozen=True)
class Period:
    """A span of business dates, ``start`` inclusive, ``end`` exclusive."""

    kind: PeriodKind
    start: date
    end: date
    label: str  # "2026-11-03", "2026-W48", "2026-11", "2026": the CLI's and URL's spelling

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # Chinese, as printed in the table's head
    kind: ValueKind = "text"


@dataclass
class Table:
    key: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] | None = None  # a totals row under the others, same keys
    empty: str = "无"  # shown instead of an empty table


@dataclass(frozen=True)
class Figure:
    """A headline number: 回访 128 次, 接通率 86.7%."""

    key: str
    label: str
    value: int | float | Decimal | str | None
    kind: ValueKind = "int"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per category; None: no data that month


@dataclass(frozen=True)
class Chart:
    """Drawn on the server as SVG (page and PDF); the spreadsheet gets its data as a table."""

    key: str
    title: str
    kind: Literal["line", "bar"]
    categories: Sequence[str]
    series: Sequence[Series]
    unit: str = ""  # "分", "%", "台"


@dataclass
class Report:
    name: str  # the catalog's name, e.g. "satisfaction"
    title: str  # 月客户满意度回访表
    period: Period
    dealer: str
    generated_at: datetime
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how a figure is counted, in Chinese


@dataclass(frozen=True)
class ReportSource:
    """What a report is computed from: the archive (settings, clock, staff) and its read
    models, caught up with the log."""

    archive: Archive
    models: ReadModels

    def report(self, spec: ReportSpec, period: Period, **parts: Any) -> Report:
        """An empty (or, with ``parts``, filled) report of ``spec`` for ``period``, headed with
        this archive's dealer and the time it is made."""
        return Report(
            name=spec.name,
            title=spec.title,
            period=period,
            dealer=self.archive.settings.dealer_name,
            generated_at=self.archive.now(),
            **parts,
        )


@dataclass(frozen=True)
class ReportSpec:
    """One report of the catalog."""

    name: str  # English, the CLI's and URL's: "satisfaction"
    title: str  # Chinese: 月客户满意度回访表
    periods: tuple[PeriodKind, ...]  # which spans it is asked for; the first is the default
    build: Callable[[ReportSource, Period], Report]
    # When it is due: "daily" (before the manager leaves), "monday", "month_3rd", or None.
    due: str | None = None
    summary: str = ""  # one Chinese line for the reports index
    # A template included under the report on its page (forms recording outcomes), or None.
    page_extra: str | None = None
    # The period it opens on for a day, when not the usual one (periods.default_period): the
    # lists that look ahead (maintenance, greetings) open on the month to come, not the last.
    default: Callable[[date], Period] | None = None
