"""The archive's one error tree: every layer raises from it, every edge translates it once.

Each error carries a stable ``code`` for scripts, a Chinese message for people at the counter
and an English one for logs and integrations, an HTTP status and a CLI exit code. It lives in
the lowest layer so that aggregates (``RuleError``), projections (a search query that cannot be
read) and the application alike raise from it; ``archive.errors`` is where the rest of the
project imports it from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One thing to fix: the field (empty for the input as a whole), what is wrong, and for a
    file of many rows (a CSV import) the line it is on."""

    field: str
    message_zh: str
    message_en: str
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {} if self.line is None else {"line": self.line}
        data.update(field=self.field, message_zh=self.message_zh, message_en=self.message_en)
        return data


class ArchiveError(Exception):
    """Something the archive refused; nothing was changed by the request that raised it."""

    http_status = 400
    exit_code = 1

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    @property
    def problems(self) -> list[FieldProblem]:
        """Field by field, what to fix (empty when the message says it all)."""
        return []

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, "message_zh": self.message_zh, "message_en": self.message_en}


class BadInput(ArchiveError):
    """Input that cannot be taken as it is; ``problems`` names each field to fix."""

    http_status = 422
    exit_code = 2

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        problems: Iterable[FieldProblem] = (),
    ) -> None:
        super().__init__(code, message_zh, message_en)
        self._problems = list(problems)

    @property
    def problems(self) -> list[FieldProblem]:
        return self._problems


class NotFound(ArchiveError):
    http_status = 404


class Conflict(ArchiveError):
    """A stale version, a duplicate number, or a change the record's state refuses."""

    http_status = 409


class Forbidden(ArchiveError):
    http_status = 403


class RuleError(Conflict):
    """A change an aggregate's state forbids (e.g. amending a voided document)."""
