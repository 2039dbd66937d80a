"""The ``archive`` command: everything the web does, for scripts and operators.

One module per area, each adding its commands to :data:`app`; what they share (options,
opening the archive, JSON output, the translation of errors into messages and exit codes)
is in :mod:`archive.cli._shared`. Libraries that take long to load (WeasyPrint, pypdf, Whoosh,
uvicorn) are imported by the commands that use them, so ``archive --help`` starts at once.
"""

from __future__ import annotations

import typer

from archive.cli import (
    contacts,
    documents,
    fees,
    integrity,
    months,
    operations,
    reading,
    reports,
    scans,
    staff,
    worker,
)

app = typer.Typer(
    help="经销商售后档案系统 / dealership after-sales archive.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for area in (
    operations,
    reading,
    documents,
    scans,
    staff,
    months,
    integrity,
    reports,
    worker,
    fees,
    contacts,
):
    area.register(app)


def main() -> None:
    app()
