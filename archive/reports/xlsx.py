"""A report as a spreadsheet (openpyxl): one sheet, typed cells, the same numbers as the page.

Layout, top to bottom: title, period, dealer and time made; the headline figures as two rows
(labels over values); each table with its title, a bold header and a totals row; each chart's
data as a table (categories down, series across); the notes. The first table's header is
frozen, so it stays in view while the clerk scrolls its rows.

Cells are typed: numbers are numbers, money has 2 decimals (``#,##0.00``), percentages are
fractions shown as ``0.0%``, dates are dates. The file is deterministic: the same report gives
the same bytes (openpyxl stamps the time of saving into the file and the zip; both are set to
the report's own time here).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from archive.reports.display import as_decimal
from archive.reports.model import Chart, Column, Report, Table, ValueKind
from archive.reports.periods import period_title

FORMATS: dict[str, str] = {
    "int": "#,##0",
    "days": "0.0",
    "money": "#,##0.00",
    "percent": "0.0%",
    "score": "0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEAD_FILL = PatternFill("solid", fgColor="EEEEEE")
MAX_WIDTH = 48


def cell_value(value: Any, kind: ValueKind) -> Any:
    """The value as the spreadsheet stores it: a number, a date, or text."""
    if value is None:
        return None
    if kind == "money":
        amount = as_decimal(value)
        return float(amount) if amount is not None else str(value)
    if kind in ("int", "days", "percent", "score"):
        if isinstance(value, Decimal):
            return float(value)
        return value if isinstance(value, int | float) else str(value)
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if kind == "datetime":
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)  # Excel has no time zones: the local time shown
        try:
            return datetime.fromisoformat(str(value)).replace(tzinfo=None)
        except ValueError:
            return str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value) if not isinstance(value, int | float) else value


class _Sheet:
    """Writes down the sheet row by row, keeping each column's widest text."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.row = 1
        self.widths: dict[int, float] = {}

    def put(
        self, column: int, value: Any, kind: ValueKind = "text", font: Font | None = None
    ) -> None:
        cell = self.sheet.cell(row=self.row, column=column, value=cell_value(value, kind))
        if kind in FORMATS and cell.value is not None and not isinstance(cell.value, str):
            cell.number_format = FORMATS[kind]
        if font is not None:
            cell.font = font
        text = str(cell.value if cell.value is not None else "")
        # A Chinese character is about two Latin ones wide.
        width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2
        if kind in ("money", "percent", "score", "date", "datetime"):
            width = max(width, 12)
        self.widths[column] = min(max(self.widths.get(column, 8), width), MAX_WIDTH)

    def next(self, rows: int = 1) -> None:
        self.row += rows


def report_xlsx(report: Report, tz: tzinfo | None = None) -> bytes:
    """The report as an .xlsx file's bytes; times shown in the dealership's zone ``tz``."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = report.title[:31]  # Excel's limit on a sheet's name
    out = _Sheet(sheet)
    out.put(1, report.title, font=TITLE)
    out.next()
    out.put(1, "期间")
    out.put(2, period_title(report.period))
    out.put(3, report.period.label)
    out.next()
    out.put(1, "经销商")
    out.put(2, report.dealer)
    out.put(3, "生成时间")
    out.put(4, report.generated_at.astimezone(tz) if tz else report.generated_at, "datetime")
    out.next(2)
    if report.figures:
        for i, figure in enumerate(report.figures, start=1):
            out.put(i, figure.label, font=BOLD)
        out.next()
        for i, figure in enumerate(report.figures, start=1):
            out.put(i, figure.value, figure.kind)
        out.next(2)
    frozen = False
    for table in report.tables:
        header = _table(out, table)
        if not frozen:
            sheet.freeze_panes = sheet.cell(row=header + 1, column=1)
            frozen = True
    for chart in report.charts:
        _table(out, chart_table(chart))
    if report.notes:
        out.put(1, "说明", font=BOLD)
        out.next()
        for note in report.notes:
            out.put(1, note)
            out.next()
    for column, width in out.widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width
    book.properties.creator = report.dealer
    book.properties.title = report.title
    return _fixed_times(book, report.generated_at)


def _table(out: _Sheet, table: Table) -> int:
    """Write one table; the row of its header."""
    out.put(1, table.title, font=BOLD)
    out.next()
    header = out.row
    for i, column in enumerate(table.columns, start=1):
        out.put(i, column.label, font=BOLD)
        out.sheet.cell(row=out.row, column=i).fill = HEAD_FILL
    out.next()
    if not table.rows:
        out.put(1, table.empty)
        out.next()
    for row in [*table.rows, *([table.total] if table.total else [])]:
        for i, column in enumerate(table.columns, start=1):
            out.put(i, row.get(column.key), column.kind, BOLD if row is table.total else None)
        out.next()
    out.next()
    return header


def chart_table(chart: Chart) -> Table:
    """A chart's data as a table: one row per category, one column per series."""
    # A chart's values are plain numbers in its unit (86.7 for 86.7%), never fractions.
    whole = all(float(v).is_integer() for s in chart.series for v in s.values if v is not None)
    kind: ValueKind = "int" if whole else "score"
    columns = [
        Column("category", "类别"),
        *(Column(f"s{i}", s.name, kind) for i, s in enumerate(chart.series)),
    ]
    rows = [
        {"category": category, **{f"s{i}": s.values[n] for i, s in enumerate(chart.series)}}
        for n, category in enumerate(chart.categories)
    ]
    unit = f"（{chart.unit}）" if chart.unit else ""
    return Table(f"chart_{chart.key}", f"{chart.title}{unit}（图表数据）", columns, rows)


_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")
_CREATED = re.compile(rb"<dcterms:created([^>]*)>[^<]*</dcterms:created>")


def _fixed_times(book: Workbook, moment: datetime) -> bytes:
    """Save, then set the times openpyxl took from the clock to ``moment``."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    stamp = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = io.BytesIO()
    book.save(raw)
    fixed = io.BytesIO()
    zip_time = (
        max(moment.year, 1980),
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(
                    rb"<dcterms:modified\1>" + stamp.encode() + rb"</dcterms:modified>", data
                )
                data = _CREATED.sub(
                    rb"<dcterms:created\1>" + stamp.encode() + rb"</dcterms:created>", data
                )
            entry = zipfile.ZipInfo(info.filename, date_time=zip_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, data)
    return fixed.getvalue()
