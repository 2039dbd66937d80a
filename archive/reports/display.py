"""How a report's values read (page, PDF) and travel (``--json``, the API), by their kind.

The conventions every report module follows:

- ``int``, ``days``: a whole number (``days`` may be a float: 2.5 天);
- ``money``: a :class:`~decimal.Decimal` of yuan (or its text, ``"1234.50"``): shown with
  thousands separators and 2 decimals, sent as the exact text ``"1234.50"``;
- ``percent``: a FRACTION, 0.867 for 86.7% (the spreadsheet's percent format expects it);
- ``score``: an average score, shown with 2 decimals;
- ``date`` / ``datetime``: :class:`~datetime.date` / :class:`~datetime.datetime` (or ISO text);
- ``None`` anywhere: no value, shown as "—".
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from archive.reports.model import Chart, Report, Table, ValueKind
from archive.reports.periods import period_title

NONE_SHOWN = "—"


def as_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _rounded(value: Decimal, places: str) -> Decimal:
    """Half up, as a person rounds (4.625 → 4.63), not as a binary float does (4.62)."""
    return value.quantize(Decimal(places), ROUND_HALF_UP)


def shown(value: Any, kind: ValueKind) -> str:
    """The value as a person reads it."""
    if value is None or value == "":
        return NONE_SHOWN
    if kind == "money":
        amount = as_decimal(value)
        return str(value) if amount is None else f"{amount:,.2f}"
    if kind == "percent" and isinstance(value, int | float | Decimal):
        return f"{_rounded(Decimal(str(value)) * 100, '0.1')}%"
    if kind == "score" and isinstance(value, int | float | Decimal):
        return str(_rounded(Decimal(str(value)), "0.01"))
    if kind == "days" and isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    if kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if kind == "datetime" and isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def plain(value: Any, kind: ValueKind) -> Any:
    """The value for JSON: money as exact text, dates as ISO text, numbers as numbers."""
    if value is None:
        return None
    if kind == "money":
        amount = as_decimal(value)
        return str(value) if amount is None else str(amount)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def table_dict(table: Table) -> dict[str, Any]:
    kinds = {c.key: c.kind for c in table.columns}

    def row(values: dict[str, Any]) -> dict[str, Any]:
        return {key: plain(value, kinds.get(key, "text")) for key, value in values.items()}

    return {
        "key": table.key,
        "title": table.title,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
        "rows": [row(r) for r in table.rows],
        "total": row(table.total) if table.total is not None else None,
    }


def chart_dict(chart: Chart) -> dict[str, Any]:
    return {
        "key": chart.key,
        "title": chart.title,
        "kind": chart.kind,
        "unit": chart.unit,
        "categories": list(chart.categories),
        "series": [{"name": s.name, "values": list(s.values)} for s in chart.series],
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The whole report for ``--json`` and the API, English keys."""
    period = report.period
    return {
        "name": report.name,
        "title": report.title,
        "period": {
            "kind": period.kind,
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.last_day.isoformat(),
            "title": period_title(period),
        },
        "dealer": report.dealer,
        "generated_at": report.generated_at.isoformat(),
        "figures": [
            {"key": f.key, "label": f.label, "value": plain(f.value, f.kind), "kind": f.kind}
            for f in report.figures
        ],
        "charts": [chart_dict(c) for c in report.charts],
        "tables": [table_dict(t) for t in report.tables],
        "notes": list(report.notes),
    }


NUMERIC_KINDS = frozenset({"int", "money", "percent", "score", "days"})
SHORT_CELL = 12  # characters
WIDE_TABLE = 8  # columns: more are printed on a landscape page


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def table_view(table: Table) -> dict[str, Any]:
    """A table with every cell as text, for the page and the print template."""

    def cells(row: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "text": text,
                "numeric": c.kind in NUMERIC_KINDS,
                # Short cells (a name, a plate, a number) kept on one line: left to the
                # layout, Chinese text would wrap after every character in a narrow column.
                "nowrap": len(text) <= SHORT_CELL,
            }
            for c in table.columns
            for text in (shown(row.get(c.key), c.kind),)
        ]

    rows = [{"cells": cells(r), "total": False} for r in table.rows]
    if table.rows and table.total is not None:
        rows.append({"cells": cells(table.total), "total": True})
    # A column of Chinese sentences (a problem, an action, the customer's words): the others'
    # one-line cells would squeeze it to a character a line, so it is given a minimum width.
    # (Numbers joined by " / " wrap at their spaces and need none.)
    long = [
        any(not row["cells"][i]["nowrap"] and _chinese(row["cells"][i]["text"]) for row in rows)
        for i in range(len(table.columns))
    ]
    for row in rows:  # there a short sentence wraps too, within that width
        for cell, wraps in zip(row["cells"], long, strict=True):
            cell["nowrap"] = cell["nowrap"] and not wraps
    return {
        "key": table.key,
        "title": table.title,
        "columns": [
            {"key": c.key, "label": c.label, "numeric": c.kind in NUMERIC_KINDS, "long": wraps}
            for c, wraps in zip(table.columns, long, strict=True)
        ],
        "rows": rows,
        "empty": table.empty,
        "wide": len(table.columns) > WIDE_TABLE,
    }


def report_view(report: Report, tz: tzinfo | None = None) -> dict[str, Any]:
    """What the page and the PDF show: figures and cells as text, charts as SVG; the time
    made in the dealership's zone ``tz``."""
    from archive.reports.charts import chart_svg

    made = report.generated_at.astimezone(tz) if tz else report.generated_at
    tables = [table_view(t) for t in report.tables]
    return {
        "r": report,
        "period_title": period_title(report.period),
        "generated": f"{made:%Y-%m-%d %H:%M}",
        "figures": [
            {"key": f.key, "label": f.label, "shown": shown(f.value, f.kind)}
            for f in report.figures
        ],
        "charts": [chart_svg(c) for c in report.charts],
        "tables": tables,
        # A table of 9+ columns does not fit the width of an A4 page upright.
        "landscape": any(t["wide"] and t["rows"] for t in tables),
    }
