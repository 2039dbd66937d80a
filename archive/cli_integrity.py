"""``archive checkpoint``, ``archive checkpoints`` and ``archive verify``: tamper evidence.

Wired into the ``archive`` command by :func:`register` (``archive.cli`` calls it). Output follows
``archive.cli``: Chinese for people with the English beside it, ``--json`` for scripts, exit 1
when something is refused. ``verify`` exits 0 when the archive is intact and 1 when anything
was tampered with.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

import typer

from archive.integrity import (
    VerifyReport,
    list_checkpoints,
    load_verifier,
    make_checkpoint,
    verify,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

# How many findings the human report lists (``--json`` has them all, up to the named limit).
SHOWN = 20

VERDICTS = {
    "store": (
        "事件库被改动过（见证账本与签名检查点一致）",
        "the event store was altered (the ledger agrees with the signed checkpoints)",
    ),
    "ledger": (
        "见证账本与事件库不符，但事件库与所有签名检查点一致：账本文件被改动或损坏",
        "the ledger file was altered or damaged; the store matches every signed checkpoint",
    ),
}


def register(app: typer.Typer) -> None:
    """Add the integrity commands to ``app``."""
    app.command("checkpoint")(checkpoint)
    app.command("checkpoints")(checkpoints)
    app.command("verify")(verify_command)


def _cli() -> Any:
    """``archive.cli``, for its error handling and JSON output. Imported when a command runs,
    because ``archive.cli`` imports this module (for :func:`register`) while it loads."""
    from archive import cli

    return cli


def checkpoint(as_json: JsonOpt = False) -> None:
    """Sign a checkpoint of the ledger now (签发检查点): tree size and Merkle root."""
    cli = _cli()
    with cli._archive(as_json) as archive:
        made = make_checkpoint(archive)
        info = made.as_dict(load_verifier(archive.settings))
    if as_json:
        cli._emit_json(info)
        return
    typer.echo(
        f"已签发检查点 {info['file']}：{info['size']} 个事件，根哈希 {info['root']}\n"
        f"checkpoint signed: {info['size']} events, root {info['root']}"
    )


def checkpoints(as_json: JsonOpt = False) -> None:
    """List every checkpoint kept (检查点列表), oldest first, with its signature checked."""
    cli = _cli()
    with cli._archive(as_json) as archive:
        key = load_verifier(archive.settings)
        rows = [c.as_dict(key) for c in list_checkpoints(archive.settings)]
    if as_json:
        cli._emit_json(rows)
        return
    if not rows:
        typer.echo("还没有检查点 / no checkpoints yet")
    for row in rows:
        if row["error"]:
            typer.echo(f"{row['file']}  无法读取 / unreadable: {row['error']}")
            continue
        valid = "签名有效 / valid" if row["signature_valid"] else "签名无效 / INVALID signature"
        typer.echo(f"{row['file']}  {row['size']:>9} 个事件 events  {row['root']}  {valid}")


def verify_command(as_json: JsonOpt = False) -> None:
    """Recompute the Merkle tree from the event store and check every checkpoint (核验档案)."""
    cli = _cli()
    with cli._archive(as_json) as archive:
        report = verify(archive)
    if as_json:
        cli._emit_json(report.as_dict())
    else:
        typer.echo("\n".join(describe(report)))
    raise typer.Exit(0 if report.intact else 1)


def describe(report: VerifyReport) -> list[str]:
    """The report for people: verdict, first finding, the rest, figures."""
    root = base64.b64encode(report.root).decode()
    signed = sum(1 for c in report.checkpoints if c.signature_valid)
    lines: list[str] = []
    if report.intact:
        lines += [
            f"档案完整：{report.events} 个事件，根哈希 {root}；{signed} 个检查点签名有效且前后一致",
            f"archive intact: {report.events} events, root {root}; "
            f"{signed} checkpoints validly signed and consistent",
        ]
    else:
        zh, en = VERDICTS.get(report.blame or "", ("发现篡改", "tampering found"))
        first = report.findings[0]
        lines += [
            f"发现篡改！{zh}",
            f"TAMPERING FOUND: {en}",
            f"第一处：{first.message_zh}",
            f"first:  {first.message_en}",
        ]
        for finding in report.findings[1:SHOWN]:
            lines += [f"  - {finding.message_zh}", f"    {finding.message_en}"]
        if len(report.findings) > SHOWN:
            lines.append(f"  … 另有 {len(report.findings) - SHOWN} 处 / and more")
        if report.differences:
            counts = "，".join(f"{code} {n}" for code, n in sorted(report.differences.items()))
            lines.append(f"与账本比对 / against the ledger: {counts}")
    if report.unwitnessed:
        lines.append(
            f"账本尚未见证最后 {report.unwitnessed} 个事件 / "
            f"the ledger has not yet witnessed the last {report.unwitnessed} events"
        )
    lines.append(
        f"用时 {report.seconds:.2f} 秒，每秒 {report.rate:,.0f} 个事件 / "
        f"{report.seconds:.2f} s, {report.rate:,.0f} events/s"
    )
    return lines
