"""Errors that carry what went wrong for people (Chinese) and for logs (English)."""

from __future__ import annotations


class BilingualError(Exception):
    """``code`` is stable for scripts; the two messages are for people and for logs."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


class RuleError(BilingualError):
    """A change an aggregate's state forbids (e.g. amending a voided document)."""
