"""Errors every entry point (CLI, pages, API) turns into a clear message.

Each carries a stable ``code`` for scripts, a Chinese message for people at the counter and an
English one for logs and integrations, an HTTP status and a CLI exit code.
"""

from __future__ import annotations

from archive.kinds.validation import FieldProblem, ValidationFailed
from events.errors import BilingualError, RuleError


class ArchiveError(BilingualError):
    http_status = 400
    exit_code = 1

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, "message_zh": self.message_zh, "message_en": self.message_en}


class NotFound(ArchiveError):
    http_status = 404


class Conflict(ArchiveError):
    """A stale version, a duplicate number, or a change the document's state refuses."""

    http_status = 409


class Forbidden(ArchiveError):
    http_status = 403


class BadInput(ArchiveError):
    http_status = 422
    exit_code = 2


def from_rule(error: RuleError) -> Conflict:
    return Conflict(error.code, error.message_zh, error.message_en)


__all__ = [
    "ArchiveError",
    "BadInput",
    "Conflict",
    "FieldProblem",
    "Forbidden",
    "NotFound",
    "ValidationFailed",
    "from_rule",
]
