"""``archive month``, ``archive seal``, ``archive bundle`` and ``archive print``: month volumes
on the command line. :func:`register` adds them to the ``archive`` app.

Human output is Chinese, ``--json`` prints English keys; exit codes as everywhere: 0 done,
1 refused, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from archive import commands
from archive.bundle.bindings import BINDING_LABELS
from archive.cli._shared import (
    JsonOpt,
    KindArg,
    MonthArg,
    NumberArg,
    OutOpt,
    emit_json,
    fail,
    opened,
    progress_bar,
)
from archive.errors import ArchiveError
from archive.kinds.registry import get_kind
from archive.queries.months import blocker_view, month_overview
from archive.queries.volumes import parse_month

if TYPE_CHECKING:
    from archive.bootstrap import Archive
    from archive.bundle.pipeline import Bundle
    from archive.commands.sealing import SealBlocked

app = typer.Typer()

# Who makes a bundle or a print: any active staff member may (auditors too), so it is optional,
# but named as for every other command and checked when given (ARCHIVE_STAFF fills it in).
ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--staff",
        envvar="ARCHIVE_STAFF",
        help="Username of the person doing this (or set ARCHIVE_STAFF).",
    ),
]


def register(root: typer.Typer) -> None:
    root.add_typer(app)


@app.command()
def month(month: MonthArg, as_json: JsonOpt = False) -> None:
    """A month's documents by kind and status, its sealed volumes, and what blocks
    sealing the next one."""
    with opened(as_json) as archive:
        chosen = parse_month(month)
        with archive.month_volumes() as months:
            overview = month_overview(archive, months, chosen)
    if as_json:
        emit_json(overview)
    else:
        _print_overview(overview)


@app.command()
def seal(
    month: MonthArg,
    staff: Annotated[
        str,
        typer.Option("--staff", envvar="ARCHIVE_STAFF", help="The service manager sealing."),
    ],
    force_reason: Annotated[
        str | None,
        typer.Option("--force-reason", help="Seal despite open items, saying why."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Seal the month's next volume (the main volume, then supplements 补1, 补2, ...).
    Its scans still waiting are read first (OCR: minutes for a month), with progress shown."""
    from archive.commands.sealing import SEAL_STAGE_LABELS

    with opened(as_json) as archive:
        try:
            volume = commands.seal_month(
                archive,
                month,
                staff,
                force_reason,
                progress=progress_bar(as_json, SEAL_STAGE_LABELS),
            )
        except commands.SealBlocked as blocked:
            _refuse_seal(blocked, as_json)
    info = {
        "volume_id": str(volume.id),
        "label": volume.label,
        "month": volume.month,
        "supplement": volume.supplement,
        "documents": len(volume.entries),
        "list_hash": volume.list_hash,
        "forced_reason": volume.forced_reason,
        "open_blockers": len(volume.open_blockers),
    }
    if as_json:
        emit_json(info)
        return
    typer.echo(f"已封存 {volume.label}：{len(volume.entries)} 份单据")
    typer.echo(f"  清单摘要 SHA-256：{volume.list_hash}")
    if volume.forced_reason:
        typer.echo(f"  强制封存（{len(volume.open_blockers)} 项未完成）：{volume.forced_reason}")


@app.command()
def bundle(
    month: MonthArg,
    output: OutOpt,
    binding: Annotated[
        str, typer.Option("--binding", help="return (for the service centre) or full.")
    ] = "full",
    supplement: Annotated[
        int, typer.Option("--supplement", help="0: the main volume; 1: 补1; ...")
    ] = 0,
    staff: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the PDF (PDF/A-3b) of a sealed volume, in the return or the full binding."""
    from archive.bundle.pipeline import STAGE_LABELS, bundle_volume  # loads WeasyPrint

    with opened(as_json) as archive:
        _acting(archive, staff)
        made = bundle_volume(
            archive,
            parse_month(month),
            binding,
            supplement=supplement,
            progress=progress_bar(as_json, STAGE_LABELS),
        )
        _write(output, made, as_json)
    label = BINDING_LABELS.get(binding, binding)
    _done(made, output, as_json, f"已生成{label}")


@app.command("print")
def print_(
    kind: KindArg,
    number: NumberArg,
    output: OutOpt,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO time: the document as it was then.")
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="An earlier version.")] = None,
    staff: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one document as it stands now (or at an earlier version, or as it was at a time,
    as ``show`` takes them), with its scans, as a PDF (PDF/A-3b)."""
    from archive.bundle.pipeline import print_document  # loads WeasyPrint
    from archive.queries.documents import parse_instant

    with opened(as_json) as archive:
        _acting(archive, staff)
        instant = parse_instant(as_of) if as_of else None
        made = print_document(archive, kind, number, version=version, as_of=instant)
        _write(output, made, as_json)
    _done(made, output, as_json, f"已生成{get_kind(kind).label} {number}")


def _acting(archive: Archive, staff: str | None) -> None:
    """Refuse a ``--staff`` who is not an active staff member, before any work is done."""
    if staff:
        commands.require_actor(archive, staff)


# -- output -----------------------------------------------------------------------------------


def _refuse_seal(blocked: SealBlocked, as_json: bool) -> NoReturn:
    blockers = [blocker_view(b) for b in blocked.blockers]
    if as_json:
        emit_json({**blocked.as_dict(), "blockers": blockers})
    else:
        typer.echo(blocked.message_zh, err=True)
        for b in blockers:
            typer.echo(f"  {b['kind_label']} {b['number']}：{b['missing_zh']}", err=True)
    raise typer.Exit(blocked.exit_code)


def _print_overview(view: dict[str, Any]) -> None:
    typer.echo(f"{view['month']} 月度卷宗：单据 {view['documents']} 份")
    for kind in view["kinds"]:
        states = "，".join(f"{s['label']} {s['count']}" for s in kind["by_status"])
        typer.echo(f"  {kind['label']}：{kind['total']} 份（{states}）")
    for volume in view["volumes"]:
        forced = f"；强制封存：{volume['forced_reason']}" if volume["forced_reason"] else ""
        when = volume["sealed_at"][:16].replace("T", " ")
        typer.echo(
            f"已封存 {volume['label']}：{volume['documents']} 份，{when} "
            f"{volume['sealed_by_name']}，清单摘要 {volume['list_hash'][:16]}…{forced}"
        )
    if view["pending"]:
        typer.echo(f"待封存（{view['next_volume']}）：{view['pending']} 份")
    if view["blockers"]:
        typer.echo(f"不能封存，尚有 {len(view['blockers'])} 项未完成：")
        for b in view["blockers"]:
            when = f"（{b['business_date']}）" if b["business_date"] else ""
            typer.echo(f"  {b['kind_label']} {b['number']}{when}：{b['missing_zh']}")
    elif view["ready_to_seal"]:
        typer.echo(f"可以封存 {view['next_volume']}（archive seal {view['month']}）")
    if view["changed_since_seal"]:
        typer.echo("封存后有变化的单据（卷内保留封存时的版本）：")
        for c in view["changed_since_seal"]:
            typer.echo(
                f"  {c['kind_label']} {c['number']}（{c['volume']}，"
                f"封存第 {c['sealed_version']} 版，现第 {c['version']} 版）：{c['changes_zh']}"
            )


def _write(output: Path, made: Bundle, as_json: bool) -> None:
    try:
        output.write_bytes(made.pdf)
    except OSError as error:
        fail(ArchiveError("unwritable", f"无法写入 {output}：{error}", str(error)), as_json)


def _done(made: Bundle, output: Path, as_json: bool, message: str) -> None:
    if as_json:
        emit_json(
            {
                "output": str(output),
                "pages": made.pages,
                "documents": len(made.contents),
                "bytes": len(made.pdf),
            }
        )
    else:
        typer.echo(f"{message}：{output}，{len(made.contents)} 份单据，共 {made.pages} 页")
