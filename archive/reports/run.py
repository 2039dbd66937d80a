"""Making a report: the one function the command line, the pages and the API call.

It finds the report in the catalog, reads the period asked for (or chooses the report's
default one), refuses a period kind the report is not made for, lets the read models catch up
with the log, and builds. Refusals are raised before anything is computed or written.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from archive.errors import BadInput, FieldProblem, NotFound
from archive.queries.documents import today
from archive.reports import catalog
from archive.reports.model import Period, PeriodKind, Report, ReportSource, ReportSpec
from archive.reports.periods import KIND_LABELS, parse_period, shifted, spec_default

if TYPE_CHECKING:
    from archive.bootstrap import Archive, ReadModels

PERIOD_KINDS: tuple[PeriodKind, ...] = ("day", "week", "month", "year")
FORMATS = {".pdf": "pdf", ".xlsx": "xlsx"}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CATCH_UP_SECONDS = 60.0
PAGE_WAIT_SECONDS = 3.0

DUE_LABELS = {
    "daily": "每天下班前",
    "monday": "每周一",
    "month_3rd": "每月3日",
}


@dataclass(frozen=True)
class Asked:
    """The report and the period a caller asked for, checked."""

    spec: ReportSpec
    period: Period


def report_spec(name: str) -> ReportSpec:
    """The catalog's report ``name``; :class:`NotFound` naming the reports there are."""
    try:
        return catalog.spec(name)
    except (KeyError, ModuleNotFoundError) as error:
        names = "、".join(catalog.MODULES)
        raise NotFound(
            "no_such_report", f"没有报表“{name}”；可选：{names}", f"no report {name!r}"
        ) from error


def available_specs() -> list[ReportSpec]:
    """The reports of the catalog whose module exists (all nine once issue 13 is done)."""
    return [
        catalog.spec(name)
        for name, module in catalog.MODULES.items()
        if importlib.util.find_spec(f"archive.reports.{module}") is not None
    ]


def ask(name: str, asked: dict[str, str | None], on: date) -> Asked:
    """Check the report and the period: ``asked`` maps a period kind ("day", "week", "month",
    "year") to its text, at most one given; none given chooses the report's default for the
    day ``on``; one starting after ``on`` (or after the default, if that is later) is refused."""
    spec = report_spec(name)
    given = {kind: text for kind, text in asked.items() if text}
    if len(given) > 1:
        zh = "只能指定一个时间段（日、周、月或年之一）"
        raise BadInput("bad_period", zh, "give one period only", [FieldProblem("period", zh, "")])
    default = spec_default(spec, on)
    if not given:
        return Asked(spec, default)
    kind, text = next(iter(given.items()))
    if kind not in spec.periods:
        takes = "、".join(f"按{KIND_LABELS[k]}" for k in spec.periods)
        zh = f"{spec.title}不按{KIND_LABELS.get(kind, kind)}出（{takes}）；请换一个时间段"  # type: ignore[call-overload]
        raise BadInput(
            "period_not_offered",
            zh,
            f"report {name} is not made by {kind} (only {', '.join(spec.periods)})",
            [FieldProblem(kind, zh, f"not offered: {kind}")],
        )
    assert text is not None
    return Asked(spec, parse_period(kind, text, on, reach=latest_start(spec, on)))


def latest_start(spec: ReportSpec, on: date) -> date:
    """The latest day a period of ``spec`` may start on, asked on the day ``on``: today for a
    report of what happened; for a list that looks ahead (its own default: the maintenance list,
    the greetings), the period after its default too, so next month's letters can be printed
    before the month begins."""
    if spec.default is None:
        return on
    return max(on, shifted(spec_default(spec, on), 1).start)


def build_report(
    archive: Archive, models: ReadModels, asked: Asked, wait: float = CATCH_UP_SECONDS
) -> Report:
    """The report, computed from the read models once they have caught up with the log (or
    after ``wait`` seconds: a page does not hold its thread longer than a person waits)."""
    models.runner.wait_for(timeout=wait)
    return asked.spec.build(ReportSource(archive, models), asked.period)


def make_report(
    archive: Archive, models: ReadModels, name: str, asked: dict[str, str | None]
) -> Report:
    return build_report(archive, models, ask(name, asked, today(archive)))


def output_format(path: Path) -> str:
    """``pdf`` or ``xlsx`` from the file's suffix; :class:`BadInput` for any other."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        zh = f"不能输出为“{path.suffix or path.name}”；文件名请以 .pdf 或 .xlsx 结尾"
        raise BadInput(
            "bad_format", zh, "output must end in .pdf or .xlsx", [FieldProblem("output", zh, "")]
        )
    return found


def rendered(report: Report, archive: Archive, fmt: str) -> bytes:
    """The report as a file of format ``pdf`` or ``xlsx``."""
    if fmt == "pdf":
        from archive.reports.pdf import report_pdf

        return report_pdf(report, archive)
    if fmt == "xlsx":
        from archive.reports.xlsx import report_xlsx

        return report_xlsx(report, archive.settings.tz)
    raise bad_format(fmt)


def bad_format(fmt: str, offered: tuple[str, ...] = tuple(MEDIA_TYPES)) -> BadInput:
    """The refusal of a file format that is not one of ``offered`` (the page, the API)."""
    zh = f"没有“{fmt}”格式；可选：{'、'.join(offered)}"
    en = f"no format {fmt!r}; one of {', '.join(offered)}"
    return BadInput("bad_format", zh, en, [FieldProblem("format", zh, en)])


def file_name(report: Report, fmt: str) -> str:
    """What a download is called: ``daily-2026-11-03.pdf``."""
    return f"{report.name}-{report.period.label}.{fmt}"


def download_headers(report: Report, fmt: str) -> dict[str, str]:
    """The HTTP headers of the report downloaded as a ``fmt`` file."""
    return attachment_headers(file_name(report, fmt), fmt)


def attachment_headers(name: str, fmt: str) -> dict[str, str]:
    """The HTTP headers of a ``fmt`` file downloaded as ``name`` (any report's, the letters)."""
    from urllib.parse import quote

    return {
        "Content-Type": MEDIA_TYPES[fmt],
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
    }
