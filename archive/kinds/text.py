"""What stored text may hold: one rule for field values, reasons, names, labels and claim
numbers, and the way old text is shown safely on a terminal.

Control characters (C0, DEL and C1) make a terminal act on them (ESC starts an escape
sequence) and are invisible on a page; bidirectional overrides and isolates (U+202A-U+202E,
U+2066-U+2069) make a name or a number read differently from what is stored. Neither belongs
in paperwork. Tab is text; a newline only where a field is meant to hold several lines.
"""

from __future__ import annotations

import re

from archive.errors import FieldProblem, ValidationFailed

_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and newline, DEL, C1
_BIDI = "\u202a-\u202e\u2066-\u2069"
# A lone surrogate (JSON's "\\ud800") is no character at all: UTF-8 cannot even store it.
_SURROGATES = "\ud800-\udfff"
_FORBIDDEN_MULTILINE = re.compile(f"[{_CONTROLS}{_BIDI}{_SURROGATES}]")
_FORBIDDEN_ONE_LINE = re.compile(f"[\n{_CONTROLS}{_BIDI}{_SURROGATES}]")
# What ``printable`` escapes: everything above, and the tab and newline too unless the text is
# printed as lines of its own.
_UNPRINTABLE = re.compile(f"[\t\n{_CONTROLS}{_BIDI}{_SURROGATES}]")
_UNPRINTABLE_KEEPING_LINES = _FORBIDDEN_MULTILINE


def text_problem(value: str, *, multiline: bool = False) -> tuple[str, str] | None:
    """Why ``value`` may not be stored, as ``(message_zh, message_en)``; ``None`` if it may.

    ``multiline`` allows newlines (a remark, a fault description); a name, a reason or a
    number is one line.
    """
    pattern = _FORBIDDEN_MULTILINE if multiline else _FORBIDDEN_ONE_LINE
    found = pattern.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\n":
        return "不能换行", "must be a single line"
    if char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        return (
            f"含有改变文字方向的隐藏字符（U+{ord(char):04X}）",
            f"contains a bidirectional control character (U+{ord(char):04X})",
        )
    if "\ud800" <= char <= "\udfff":
        return "含有无效的字符（孤立的代理项）", "contains an invalid character (a lone surrogate)"
    return (
        f"含有不可见的控制字符（U+{ord(char):04X}）",
        f"contains a control character (U+{ord(char):04X})",
    )


def check_text(value: str, field: str, label_zh: str = "", *, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`ValidationFailed` naming ``field`` (for a command's
    arguments: a reason, a name, a claim number)."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        zh, en = problem
        raise ValidationFailed([FieldProblem(field, f"{label_zh}{zh}", en)])
    return value


def printable(value: str, *, keep_lines: bool = False) -> str:
    """``value`` with every control and direction character shown as an escape (``\\x1b``,
    ``\\u202e``), for printing events stored before the rule above existed; ``keep_lines``
    leaves tabs and newlines as they are."""
    pattern = _UNPRINTABLE_KEEPING_LINES if keep_lines else _UNPRINTABLE
    return pattern.sub(_escape, value)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
