"""Field values as people read them: staff by name, choices by label, yes/no in Chinese.

One place for it, so the CLI, the pages and the printed forms say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from archive.kinds.fieldtypes import Boolean, Choice, FieldType, Lines, StaffList, StaffRef
from archive.kinds.registry import Field


def value_text(
    field_type: FieldType, value: Any, names: Mapping[str, str], tz: tzinfo | None = None
) -> str:
    """One value as text; ``names`` maps usernames to full names; a moment typed in another
    zone is shown on the dealership's clock when ``tz`` is given (printed forms show it as
    typed, so that the bundle check, which knows no zone, reads the same text)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(field_type, StaffRef):
        return names.get(value, value)
    if isinstance(field_type, StaffList):
        return "、".join(names.get(v, v) for v in value)
    if isinstance(field_type, Choice):
        return field_type.label_of(value)
    if isinstance(field_type, Boolean):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(field_type, Lines):
        return "；".join(
            " | ".join(value_text(c.type, row.get(c.code), names, tz) for c in field_type.columns)
            for row in value
        )
    return str(value)


def line_rows(
    field: Field,
    value: list[dict[str, Any]],
    names: Mapping[str, str],
    tz: tzinfo | None = None,
) -> list[list[str]]:
    """A line table as rows of cell texts, in column order."""
    assert isinstance(field.type, Lines)
    return [
        [value_text(c.type, row.get(c.code), names, tz) for c in field.type.columns]
        for row in value
    ]
