"""The error tree every layer raises from (defined in ``events.errors``), and the archive's
own kinds of bad input.

Entry points translate them in one place each: ``archive.cli._shared.fail`` for the command
line, ``web.errors`` for the pages and the API.
"""

from __future__ import annotations

from events.errors import (
    ArchiveError,
    BadInput,
    Conflict,
    FieldProblem,
    Forbidden,
    NotFound,
    RuleError,
)


class ValidationFailed(BadInput):
    """A document (or a form) that cannot be filed; ``problems`` names each field and what
    to fix."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("invalid", "输入有误，请按提示修改", "invalid input", problems)
        # The English of every problem, for logs and tracebacks.
        self.args = ("; ".join(f"{p.field}: {p.message_en}" for p in problems),)


__all__ = [
    "ArchiveError",
    "BadInput",
    "Conflict",
    "FieldProblem",
    "Forbidden",
    "NotFound",
    "RuleError",
    "ValidationFailed",
]
