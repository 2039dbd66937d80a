"""What the OpenAPI schema says of values that the write path checks itself.

The write path decides (and says in Chinese what is wrong, field by field); these only
describe its rules in the schema, so that a client, the /docs page and schemathesis know
them: a schema-valid request is never refused as invalid. Each pattern says the rule of
``archive.kinds.text`` (no control or direction characters) and of ``require_reason`` (not
blank once trimmed as Python's ``str.strip`` trims).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from archive.kinds.registry import KINDS
from archive.kinds.roles import ROLE_LABELS, STAFF_ROLES

# C0 but tab and newline, DEL, C1, and the direction overrides and isolates.
_FORBIDDEN = "\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
# What ``str.strip`` trims and stored text may hold.
_BLANK = "\\t\\n \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


def _not_blank(forbidden: str) -> str:
    return f"^[^{forbidden}]*[^{forbidden}{_BLANK}][^{forbidden}]*$"


REASON = {"minLength": 1, "maxLength": 500, "pattern": _not_blank(_FORBIDDEN)}
ONE_LINE = {"minLength": 1, "pattern": _not_blank(_FORBIDDEN + "\\n")}
MAYBE_BLANK_LINE = {"pattern": f"^[^{_FORBIDDEN}\\n]*$"}
ROLE = {"enum": list(ROLE_LABELS)}
STAFF_ROLE = {"enum": list(STAFF_ROLES)}
KIND = {"enum": list(KINDS)}
SUBMITTABLE_KIND = {"enum": [code for code, kind in KINDS.items() if kind.submittable]}
SHA256 = {"pattern": "^[0-9a-f]{64}$"}
# Letters, digits and dots, not only dots (``register_staff``).
USERNAME = {"pattern": "^[A-Za-z0-9.]*[A-Za-z0-9][A-Za-z0-9.]*$"}


def says(**schema: Any) -> dict[str, Any]:
    """``Field``/``Query``/``Path`` keywords that put ``schema`` in the OpenAPI schema only."""
    return {"json_schema_extra": schema}


# Path and query values as the schema describes them (an unknown kind is still a 404).
KindCode = Annotated[str, Path(description="单据种类 / a kind's code (see /kinds)", **says(**KIND))]
SubmittableKind = Annotated[
    str, Path(description="a kind submitted to the service centre", **says(**SUBMITTABLE_KIND))
]
# ``datetime.fromisoformat`` reads more (no seconds, no zone: local time; a blank for the T);
# the schema names the common form, RFC 3339.
AsOf = Annotated[
    str | None,
    Query(
        description="ISO time, e.g. 2026-11-03T14:30:00+08:00 (local time if no zone)",
        **says(format="date-time"),
    ),
]
