"""Which months a demo covers and where its clock stands, from what the command line asked.

The demo's clock is now, or the end of the ``--until`` day (Beijing time): no event of the
demo is dated after it, and the month it falls in is planned up to it. Asked for ``months``,
the demo ends with the clock's month; asked for one ``month``, with that month.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from archive.demo.desk import last_complete_month, parse_month
from archive.demo.plan import DemoSpec
from archive.errors import BadInput, FieldProblem

# A demo of more months than this is a typing mistake (24 months of 600 work orders is
# ~48,000 documents; 200,000 documents is --months 24 --work-orders 2500).
MAX_MONTHS = 120


def demo_spec(
    now: datetime,
    tz: tzinfo,
    *,
    month: str | None = None,
    months: int | None = None,
    until: date | None = None,
    seed: int = 4,
    work_orders: int = 600,
) -> DemoSpec:
    """The spec of the demo asked for; ``BadInput`` naming the option to change otherwise."""
    clock = now
    if until is not None:
        clock = datetime.combine(until, time(23, 59, 59), tzinfo=tz)
        if clock > now:
            raise _bad(
                "until",
                f"--until 不能晚于今天（{now.astimezone(tz):%Y-%m-%d}）",
                "--until must not be after today",
            )
    this_month = f"{clock.astimezone(tz):%Y-%m}"
    if month is None:
        month = this_month if months is not None else last_complete_month(clock, tz)
    try:
        month = f"{parse_month(month):%Y-%m}"
    except ValueError:
        raise _bad(
            "month", "--month 应写成 2026-10 这样的年-月", "--month looks like 2026-10"
        ) from None
    if month > this_month:
        raise _bad(
            "month",
            f"--month 不能晚于时钟所在的月份 {this_month}",
            f"--month must not be after {this_month}",
        )
    count = months if months is not None else 1
    if not 1 <= count <= MAX_MONTHS:
        raise _bad("months", f"--months 应在 1 到 {MAX_MONTHS} 之间", f"1 to {MAX_MONTHS}")
    if work_orders < 20:
        raise _bad("work_orders", "--work-orders 每月至少 20 份", "at least 20 a month")
    return DemoSpec(
        month=month,
        months=count,
        until=clock.astimezone(UTC),
        seed=seed,
        work_orders=work_orders,
    )


def _bad(field: str, zh: str, en: str) -> BadInput:
    return BadInput("bad_demo_option", zh, en, [FieldProblem(field, zh, en)])
