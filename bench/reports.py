"""The desk's reports at a year of a busy store: each report for a month and for a year.

Opens an archive made by ``archive demo --months 13 --work-orders 2400 --until 2026-12-02``
(about 100,000 documents), catches the read models the reports read up first, one by one
(timed and reported apart: a new projection replays the whole log once; search and the ledger
are left alone), then for every report of the catalog builds it for one
month (``--month``, default 2026-11) and for the calendar year (``--year``, default 2026,
January to December: its last month is not over, so it holds 11 months of data and the weeks
of December before the demo's clock); a report that takes no year runs the month only, one that
takes no month runs the week or the day it offers that ends the month (said in the table).
Each is run ``--runs`` times after a warm-up (median and max), next to a plain SQL count over
the projection table it reads most, for the same business dates, in the same run: the ratio
says how much a report costs above reading its rows' index. Then the month's XLSX and PDF are
written once per report (timed, no goal).

Goal (issue 13): every report under 1 s for a month and under 3 s for a year (its max over the
runs). Exit 1 if one misses it.

    .venv/bin/python bench/reports.py [--home /work/bench-data/reports-year] [--runs 5]
        [--month 2026-11] [--year 2026] [--only NAME ...] [--no-files]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from archive.bootstrap import Archive, ReadModels, open_archive
from archive.config import Settings
from archive.reports.model import Period, ReportSource, ReportSpec
from archive.reports.periods import day_period, parse_period, week_period
from archive.reports.run import available_specs, rendered

DEFAULT_HOME = Path("/work/bench-data/reports-year")
MONTH_GOAL, YEAR_GOAL = 1.0, 3.0
# The projection table each report reads most, and its business-date column: the baseline.
BASELINE: dict[str, tuple[str, str, str]] = {
    "daily": ("worklists", "wl_docs", "business_date"),
    "weekly-callbacks": ("callbacks", "cb_callbacks", "business_date"),
    "satisfaction": ("callbacks", "cb_callbacks", "business_date"),
    "complaints": ("callbacks", "cb_forms", "business_date"),
    "churn": ("contacts", "contact_visits", "business_date"),
    "maintenance": ("contacts", "contact_visits", "business_date"),
    "first-service": ("vehicles", "vehicle_records", "business_date"),
    "service-fee": ("fees", "fee_claims", "business_date"),
    "greetings": ("contacts", "contact_visits", "business_date"),
}
FALLBACK = ("months", "month_documents", "business_date")
# Read models no report reads: not caught up here (the search index of 100,000 documents takes
# most of an hour to build with Whoosh; the integrity ledger is the witness's).
NOT_READ = ("search", "ledger")


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def runs_of(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median and max of ``runs`` timings after one warm-up."""
    call()
    times = [timed(call) for _ in range(runs)]
    return statistics.median(times), max(times)


def month_like(spec: ReportSpec, month: Period) -> tuple[Period, str]:
    """The period a report is run for as "the month": the month, or the week or day it offers
    that ends the month."""
    if "month" in spec.periods:
        return month, ""
    last = month.last_day
    if "week" in spec.periods:
        week = week_period(last - timedelta(days=(last.weekday() + 1) % 7))  # the last Sunday
        return week, f"按周：{week.label}"
    return day_period(last), f"按日：{last.isoformat()}"


def baseline_sql(models: ReadModels, name: str, period: Period) -> tuple[Callable[[], Any], str]:
    """The plain count over the report's table for the period's business dates."""
    attr, table, column = BASELINE.get(name, FALLBACK)
    projection = getattr(models, attr, None)
    if projection is None or not _has_column(projection, table, column):
        attr, table, column = FALLBACK
        projection = getattr(models, attr)
    sql = f"SELECT count(*) AS n FROM {table} WHERE {column} >= ? AND {column} < ?"
    params = (period.start.isoformat(), period.end.isoformat())
    return (lambda: projection.query(sql, params)), f"{table}.{column}"


def _has_column(projection: Any, table: str, column: str) -> bool:
    try:
        projection.query(f"SELECT {column} FROM {table} WHERE 1 = 0")
    except Exception:  # a table or column another version does not have
        return False
    return True


def event_count(archive: Archive) -> int:
    return int(archive.app.recorder.max_notification_id() or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--year", default="2026")
    parser.add_argument("--only", nargs="*", default=None, help="report names")
    parser.add_argument("--no-files", action="store_true", help="skip the XLSX and PDF timing")
    args = parser.parse_args(argv)

    archive = open_archive(Settings(home=args.home))
    month, year = parse_period("month", args.month), parse_period("year", args.year)
    missed: list[str] = []
    rows: list[list[str]] = []
    files: list[list[str]] = []
    try:
        with archive.read_models() as models:
            print(f"home {args.home}: {event_count(archive):,} events in the log")
            catch_up_seconds = 0.0
            for name in models.runner.projections:
                if name in NOT_READ:
                    continue
                started = time.perf_counter()
                applied = models.runner.catch_up(name)
                caught = time.perf_counter() - started
                print(f"catching up {name}: {applied:,} events applied in {caught:.1f} s")
                catch_up_seconds += caught
            for spec in available_specs():
                if args.only and spec.name not in args.only:
                    continue
                source = ReportSource(archive, models)
                chosen, note = month_like(spec, month)
                periods = [(chosen, MONTH_GOAL, note or "月")]
                if "year" in spec.periods:
                    periods.append((year, YEAR_GOAL, f"年：{year.label} 全年"))
                else:
                    note = (note + "；" if note else "") + "不按年出"
                    periods[0] = (chosen, MONTH_GOAL, note or "月")
                failed = False
                for period, goal, label in periods:
                    try:
                        median, worst = runs_of(partial(spec.build, source, period), args.runs)
                    except Exception as error:  # a report another helper is changing: go on
                        missed.append(f"{spec.name} {period.label} (failed)")
                        failed = True
                        rows.append(
                            [
                                spec.name,
                                period.label,
                                "-",
                                "-",
                                "-",
                                "-",
                                "-",
                                "FAILED",
                                f"{type(error).__name__}: {str(error)[:60]}",
                            ]
                        )
                        print(" | ".join(rows[-1]), flush=True)
                        continue
                    count, where = baseline_sql(models, spec.name, period)
                    base_median, _ = runs_of(count, args.runs)
                    ok = worst < goal
                    if not ok:
                        missed.append(f"{spec.name} {period.label}")
                    rows.append(
                        [
                            spec.name,
                            period.label,
                            f"{median * 1000:.1f}",
                            f"{worst * 1000:.1f}",
                            f"{base_median * 1000:.2f}",
                            f"{median / base_median:.0f}x" if base_median else "-",
                            where,
                            f"< {goal:.0f} s " + ("ok" if ok else "MISSED"),
                            label,
                        ]
                    )
                    print(" | ".join(rows[-1]), flush=True)
                if not args.no_files and not failed:
                    report = spec.build(source, chosen)
                    xlsx = timed(lambda r=report: rendered(r, archive, "xlsx"))
                    pdf = timed(lambda r=report: rendered(r, archive, "pdf"))
                    files.append(
                        [spec.name, chosen.label, f"{xlsx * 1000:.0f}", f"{pdf * 1000:.0f}"]
                    )
    finally:
        archive.close()
    _table(
        [
            "report",
            "period",
            "median ms",
            "max ms",
            "SQL count ms",
            "ratio",
            "count over",
            "goal",
            "note",
        ],
        rows,
    )
    if files:
        print()
        _table(["report", "period", "XLSX ms", "PDF ms (signed)"], files)
    print(f"\ncatching up the read models took {catch_up_seconds:.1f} s (no goal)")
    if missed:
        print(f"\nMISSED the goal: {', '.join(missed)}")
        return 1
    print("\nevery report within its goal")
    return 0


def _table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print()
    for row in [head, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
