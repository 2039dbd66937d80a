"""``archive ocr``: read every scan still waiting (OCR and PDF/A), in the background of the
counter's work: uploading never waits for it."""

from __future__ import annotations

import typer

from archive.cli._shared import JsonOpt, emit_json, opened, progress_bar

app = typer.Typer()

LABELS = {"ocr": "识别扫描件"}


def register(root: typer.Typer) -> None:
    root.add_typer(app)


@app.command()
def ocr(as_json: JsonOpt = False) -> None:
    """Read every attached scan not yet read: convert it to PDF/A with a Chinese text layer
    (OCRmyPDF, Tesseract chi_sim), store the result and record what was read, so searches find
    the words on the paper and bundles show the PDF/A. Sealing and printing read the scans
    they bind themselves; run this after uploads (from cron) so that they need not wait."""
    from archive.commands.ocr import read_pending_scans

    with opened(as_json) as archive:
        bar = progress_bar(as_json, LABELS)
        summary = read_pending_scans(
            archive, None if bar is None else lambda done, total: bar("ocr", done, total)
        )
    if as_json:
        emit_json(summary.as_dict())
        return
    if summary.scans:
        typer.echo(
            f"已识别 {summary.scans} 份扫描件，共 {summary.pages} 页，"
            f"用时 {summary.seconds:.1f} 秒（每页 {summary.seconds_per_page:.1f} 秒）"
        )
    else:
        typer.echo("没有等待识别的扫描件")
    for number, sha, why in summary.failed:
        typer.echo(f"无法识别：{number} 的扫描件 {sha[:12]}（{why[:200]}）", err=True)
    if summary.failed:
        raise typer.Exit(1)
