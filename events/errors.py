"""The one error the aggregates raise when their own state forbids a change."""

from __future__ import annotations


class RuleError(Exception):
    """A change an aggregate's state forbids (e.g. amending a voided document).

    ``code`` is stable for scripts; the messages are for people.
    """

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
