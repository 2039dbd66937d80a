"""The one write path: every change to the archive is one of these functions.

Each loads what it needs, checks every rule, and saves new events in one call to
``app.save``; when any check fails nothing is saved. Nothing outside this package saves events.

The functions are imported from their modules on first use (``commands.file_document``), so a
command that changes nothing (``archive search``) does not load the sealing and integrity
machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AfterSeal": "archive.commands.sealing",
    "BadInput": "archive.errors",
    "Conflict": "archive.errors",
    "Forbidden": "archive.errors",
    "ImportFailed": "archive.commands.imports",
    "NotFound": "archive.errors",
    "SealBlocked": "archive.commands.sealing",
    "actor_and_context": "archive.commands.common",
    "amend_document": "archive.commands.documents",
    "apply_change": "archive.commands.common",
    "attach_scan": "archive.commands.documents",
    "change_roles": "archive.commands.staff",
    "deactivate_staff": "archive.commands.staff",
    "depart": "archive.commands.signoff",
    "draft_daily_report": "archive.commands.daily_report",
    "file_batch": "archive.commands.imports",
    "file_document": "archive.commands.documents",
    "issue_token": "archive.commands.staff",
    "load_document": "archive.commands.common",
    "prefill": "archive.commands.links",
    "reactivate_staff": "archive.commands.staff",
    "receive_invoice": "archive.commands.fees",
    "record_greeting": "archive.commands.contacts",
    "record_pending_greetings": "archive.commands.contacts",
    "record_reminder": "archive.commands.contacts",
    "refuse_signature": "archive.commands.signoff",
    "register_staff": "archive.commands.staff",
    "require_actor": "archive.commands.common",
    "request_invoice": "archive.commands.fees",
    "require_reason": "archive.commands.common",
    "return_trip": "archive.commands.signoff",
    "revoke_token": "archive.commands.staff",
    "save": "archive.commands.common",
    "seal_month": "archive.commands.sealing",
    "set_password": "archive.commands.staff",
    "sign_document": "archive.commands.signoff",
    "submit_claim": "archive.commands.signoff",
    "validation_context": "archive.commands.common",
    "void_document": "archive.commands.documents",
    "withdraw_scan": "archive.commands.documents",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly next time
    return value
