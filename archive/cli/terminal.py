"""Printing for a person at a terminal (the reading commands share it)."""

from __future__ import annotations

import typer

from archive.kinds.text import printable


def say(line: str) -> None:
    """One line for a person at a terminal. Old events may hold control characters (stored
    before text was checked): an ESC would start an escape sequence, U+202E reverse what
    follows, so they are shown escaped (``\\x1b``)."""
    typer.echo(printable(line, keep_lines=True))
