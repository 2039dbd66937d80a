"""Canonical bytes of a document's content, the thing a signature signs.

The same content always gives the same bytes, whatever the order fields were entered in and
whatever Python type carried a value (``Decimal('12.5')`` and ``Decimal('12.50')`` are the same
amount of money only once they are quantised by the registry; here we print what we are given).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical_bytes(kind: str, number: str, fields: dict[str, Any]) -> bytes:
    """UTF-8 JSON, keys sorted, no insignificant white space; ``None`` fields left out."""
    content = {
        "kind": kind,
        "number": number,
        "fields": {k: _plain(v) for k, v in fields.items() if v is not None},
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def content_hash(kind: str, number: str, fields: dict[str, Any]) -> str:
    """Hex SHA-256 of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(kind, number, fields)).hexdigest()


def plain(value: Any) -> Any:
    """A JSON-ready copy of a field value (Decimal and dates as strings)."""
    return _plain(value)
