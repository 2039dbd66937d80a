"""HTML forms generated from the kind registry: reading a submitted form back into the same
shape the CLI and API send (scalars, lists of staff, line tables)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from starlette.datastructures import FormData

from archive.errors import FieldProblem
from archive.kinds.fieldtypes import Lines, StaffList
from archive.kinds.registry import Kind

_CELL = re.compile(r"^(?P<field>\w+)\[(?P<row>\d+)\]\[(?P<column>\w+)\]$")


def form_to_data(kind: Kind, form: FormData) -> dict[str, Any]:
    """The submitted fields as raw values: ``number``, scalars, staff lists, line tables."""
    data: dict[str, Any] = {}
    if "number" in form:
        data["number"] = str(form["number"])
    rows: dict[str, dict[int, dict[str, str]]] = {}
    for name, value in form.multi_items():
        match = _CELL.match(name)
        if match and isinstance(value, str):
            cells = rows.setdefault(match["field"], {}).setdefault(int(match["row"]), {})
            cells[match["column"]] = value
    for spec in kind.fields:
        if isinstance(spec.type, Lines):
            table = rows.get(spec.code, {})
            data[spec.code] = [table[i] for i in sorted(table)]
        elif isinstance(spec.type, StaffList):
            data[spec.code] = [str(v) for v in form.getlist(spec.code) if str(v).strip()]
        elif spec.code in form:
            data[spec.code] = str(form[spec.code])
    return data


def errors_by_field(problems: list[FieldProblem]) -> dict[str, str]:
    """Problem messages keyed by field code, and by ``field.row.column`` for line cells."""
    errors: dict[str, str] = {}
    for problem in problems:
        errors.setdefault(problem.field, problem.message_zh)
        head = problem.field.split(".", 1)[0]
        if head != problem.field:
            errors.setdefault(head, "明细有误，见下方标红的格子")
    return errors


def form_values(kind: Kind, fields: Mapping[str, Any], tz: tzinfo | None = None) -> dict[str, Any]:
    """Stored values as a form shows them again (dates as ISO text, staff as usernames;
    moments on the clock of ``tz``, as a form without a zone is read back in it)."""
    values: dict[str, Any] = {}
    for spec in kind.fields:
        value = fields.get(spec.code)
        if value is None:
            continue
        if isinstance(spec.type, Lines):
            values[spec.code] = [{k: _text(v, tz) for k, v in row.items()} for row in value]
        elif isinstance(value, list):
            values[spec.code] = [str(v) for v in value]
        else:
            values[spec.code] = _text(value, tz)
    return values


def _text(value: Any, tz: tzinfo | None = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime) and tz is not None and value.tzinfo is not None:
        value = value.astimezone(tz)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:16] if "T" in text else text  # datetime-local wants YYYY-MM-DDTHH:MM
    return str(value)
