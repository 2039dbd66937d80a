"""``archive report NAME --month 2026-11 | --week 2026-W48 | --day 2026-11-03 | --year 2026
[-o FILE.pdf|FILE.xlsx] [--json]``: the desk's reports on the command line.

Without ``-o`` the report is printed (Chinese, or JSON with ``--json``); with it, the file is
written whole or not at all. A bad period, a period kind the report is not made for, or an
output name that is neither .pdf nor .xlsx exits 2 with nothing written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from archive.cli._shared import JsonOpt, emit_json, opened, read_models
from archive.queries.documents import today
from archive.reports.catalog import MODULES
from archive.reports.model import Report

app = typer.Typer()


def register(root: typer.Typer) -> None:
    root.add_typer(app)


@app.command()
def report(
    name: Annotated[str, typer.Argument(help=f"Report: {', '.join(MODULES)}.")],
    day: Annotated[str | None, typer.Option("--day", help="A day, 2026-11-03.")] = None,
    week: Annotated[str | None, typer.Option("--week", help="An ISO week, 2026-W48.")] = None,
    month: Annotated[str | None, typer.Option("--month", help="A month, 2026-11.")] = None,
    year: Annotated[str | None, typer.Option("--year", help="A year, 2026.")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write a .pdf or .xlsx file.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A report of the information desk for a period (the report's default period if none)."""
    from archive.reports.run import ask, build_report, output_format, rendered

    with opened(as_json) as archive:
        fmt = output_format(output) if output is not None else None
        asked = ask(name, {"day": day, "week": week, "month": month, "year": year}, today(archive))
        with read_models(archive) as models:
            built = build_report(archive, models, asked)
        if output is not None and fmt is not None:
            _write(output, rendered(built, archive, fmt))
            if as_json:
                emit_json({"name": built.name, "period": built.period.label, "output": str(output)})
            else:
                typer.echo(f"已生成 {built.title}（{built.period.label}）：{output}")
            return
    if as_json:
        from archive.reports.display import report_dict

        emit_json(report_dict(built))
    else:
        _print(built)


def _write(path: Path, data: bytes) -> None:
    """Write all of ``data`` or nothing: to a file beside ``path``, then renamed over it."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=".report-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _print(report: Report) -> None:
    from archive.reports.display import shown, table_view
    from archive.reports.periods import period_title

    typer.echo(f"{report.title}　{period_title(report.period)}　{report.dealer}")
    for figure in report.figures:
        typer.echo(f"  {figure.label}：{shown(figure.value, figure.kind)}")
    for table in report.tables:
        view = table_view(table)
        typer.echo(f"\n{table.title}")
        if not view["rows"]:
            typer.echo(f"  {table.empty}")
            continue
        typer.echo("  " + "\t".join(c["label"] for c in view["columns"]))
        for row in view["rows"]:
            typer.echo("  " + "\t".join(cell["text"] for cell in row["cells"]))
    for note in report.notes:
        typer.echo(f"注：{note}")
