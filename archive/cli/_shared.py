"""What every command of the ``archive`` CLI shares: its options, opening the archive,
printing JSON, and the one translation of an error into a message and an exit code.

Human output is Chinese (with the English beside it where it helps); ``--json`` prints English
keys for scripts. Exit codes: 0 done, 1 refused (not found, conflict, forbidden), 2 bad input
(each field named).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NoReturn

import typer

from archive.bootstrap import Archive, ReadModels, open_archive
from archive.errors import ArchiveError, BadInput
from archive.kinds.registry import KINDS
from archive.kinds.text import printable

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
StaffOpt = Annotated[
    str,
    typer.Option(
        "--staff",
        envvar="ARCHIVE_STAFF",
        help="Username of the person doing this (or set ARCHIVE_STAFF).",
    ),
]
KindArg = Annotated[str, typer.Argument(help=f"Document kind: {', '.join(KINDS)}.")]
NumberArg = Annotated[str, typer.Argument(help="Document number.")]
MonthArg = Annotated[str, typer.Argument(help="The month, YYYY-MM (by business date).")]
OutOpt = Annotated[Path, typer.Option("-o", "--output", help="Where to write the PDF.")]

# A progress report: the stage (a key of the caller's labels, or ""), done, total.
Progress = Callable[[str, int, int], None]


# Characters JSON may carry raw but a terminal acts on (C1 controls such as CSI, direction
# overrides) or cannot encode (lone surrogates): written as \u escapes, which read back the same.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def emit_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    typer.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def fail(error: ArchiveError, as_json: bool) -> NoReturn:
    """Say what was refused and exit with the error's code: JSON with every field problem
    for scripts, or one line per problem in Chinese and English on stderr."""
    problems = error.problems
    if as_json:
        payload = error.as_dict()
        if problems:
            payload["problems"] = [p.as_dict() for p in problems]
        emit_json(payload)
    else:
        # A problem that only repeats the message (a search query's) is not said twice.
        problems = [p for p in problems if p.message_zh != error.message_zh]
        lines = [f"{error.message_zh} / {error.message_en}" + (":" if problems else "")]
        for p in problems:
            where = f"第 {p.line} 行 line {p.line} " if p.line is not None else ""
            lines.append(f"  {where}{p.field}: {p.message_zh} / {p.message_en}")
        # Messages may quote what was typed: shown escaped, never acted on by the terminal.
        typer.echo(printable("\n".join(lines), keep_lines=True), err=True)
    raise typer.Exit(error.exit_code)


@contextmanager
def opened(as_json: bool = False) -> Iterator[Archive]:
    """Open the archive, turn every refusal into its message and exit code, always close."""
    archive = open_archive()
    try:
        yield archive
    except ArchiveError as error:
        fail(error, as_json)
    finally:
        archive.close()


@contextmanager
def read_models(archive: Archive, wait: bool = True) -> Iterator[ReadModels]:
    """The read models, caught up with the log first unless ``wait`` is false."""
    with archive.read_models() as models:
        if wait and not models.runner.wait_for(timeout=120):
            typer.echo("索引仍在更新，结果可能不完整 / index still catching up", err=True)
        yield models


def unreadable(error: OSError) -> BadInput:
    return BadInput("unreadable", f"读不到文件：{error}", str(error))


@contextmanager
def open_file(path: Path, as_json: bool) -> Iterator[BinaryIO]:
    try:
        stream = path.open("rb")
    except OSError as error:
        fail(unreadable(error), as_json)
    with stream:
        yield stream


def read_json(path: str, as_json: bool) -> dict[str, Any]:
    """A JSON object from a file, or from stdin for ``-``, in UTF-8 (a BOM is allowed)."""
    try:
        raw = _stdin_bytes() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        fail(unreadable(error), as_json)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        fail(
            BadInput(
                "not_utf8",
                f"文件不是 UTF-8 编码（第 {error.start + 1} 个字节起），请另存为 UTF-8",
                f"the file is not UTF-8 (from byte {error.start + 1}); save it as UTF-8",
            ),
            as_json,
        )
    except json.JSONDecodeError as error:
        fail(
            BadInput(
                "bad_json",
                f"不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列）",
                f"not valid JSON: {error}",
            ),
            as_json,
        )
    except (RecursionError, ValueError):  # nested thousands deep; an integer of 4,300+ digits
        fail(
            BadInput(
                "bad_json",
                "JSON 嵌套太深或数字太长",
                "JSON nested too deeply or a number too long",
            ),
            as_json,
        )
    if not isinstance(data, dict):
        fail(BadInput("bad_json", "JSON 应为一个对象", "JSON must be an object"), as_json)
    return data


def _stdin_bytes() -> bytes:
    """Standard input as bytes, so that their encoding is checked here, not by Python."""
    stdin = getattr(sys.stdin, "buffer", None)
    return stdin.read() if stdin is not None else sys.stdin.read().encode()


def progress_bar(quiet: bool, labels: dict[str, str] | None = None) -> Progress | None:
    """Progress on stderr while a long command works (none for ``quiet``): a bar redrawn in
    place on a terminal; elsewhere (a log, cron, CI) a plain line when a stage begins, every
    few seconds, and at the end, so that a long run is seen to be alive."""
    if quiet:
        return None
    if not sys.stderr.isatty():
        return _progress_lines(labels or {})

    def report(stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        label = (labels or {}).get(stage, stage)
        prefix = f"{label} " if label else ""
        sys.stderr.write(f"\r{prefix}[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  ")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


PROGRESS_LINE_SECONDS = 5.0


@contextmanager
def still_working(label: str, quiet: bool, every: float = PROGRESS_LINE_SECONDS) -> Iterator[None]:
    """For work that cannot count its steps (a rebuild): a line on stderr every few seconds
    saying it is still at it, so that a long run in a log or a terminal is seen to be alive."""
    if quiet:
        yield
        return
    done = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not done.wait(every):
            sys.stderr.write(f"{label}… 已用 {time.monotonic() - started:.0f} 秒\n")
            sys.stderr.flush()

    beater = threading.Thread(target=beat, name="still-working", daemon=True)
    beater.start()
    try:
        yield
    finally:
        done.set()
        beater.join()


def _progress_lines(labels: dict[str, str], every: float = PROGRESS_LINE_SECONDS) -> Progress:
    last: dict[str, Any] = {"stage": None, "at": 0.0}

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == last["stage"] and now - last["at"] < every and done < total:
            return
        last.update(stage=stage, at=now)
        label = labels.get(stage, stage)
        percent = 100 * done // max(total, 1)
        sys.stderr.write(f"{label + ' ' if label else ''}{done}/{total} ({percent}%)\n")
        sys.stderr.flush()

    return report
