"""The one write path: every change to the archive is one of these functions.

Each loads what it needs, checks every rule, and saves new events in one call to
``app.save``; when any check fails nothing is saved. Nothing outside this package saves events.
"""

from archive.commands.common import (
    actor_and_context,
    apply_change,
    load_document,
    require_actor,
    require_reason,
    save,
    validation_context,
)
from archive.commands.documents import (
    amend_document,
    attach_scan,
    file_document,
    void_document,
    withdraw_scan,
)
from archive.commands.imports import ImportFailed, file_batch
from archive.commands.sealing import AfterSeal, SealBlocked, seal_month
from archive.commands.signoff import (
    depart,
    refuse_signature,
    return_trip,
    sign_document,
    submit_claim,
)
from archive.commands.staff import (
    change_roles,
    deactivate_staff,
    issue_token,
    register_staff,
    revoke_token,
    set_password,
)
from archive.errors import BadInput, Conflict, Forbidden, NotFound

__all__ = [
    "AfterSeal",
    "BadInput",
    "Conflict",
    "Forbidden",
    "ImportFailed",
    "NotFound",
    "SealBlocked",
    "actor_and_context",
    "amend_document",
    "apply_change",
    "attach_scan",
    "change_roles",
    "deactivate_staff",
    "depart",
    "file_batch",
    "file_document",
    "issue_token",
    "load_document",
    "refuse_signature",
    "register_staff",
    "require_actor",
    "require_reason",
    "return_trip",
    "revoke_token",
    "save",
    "seal_month",
    "set_password",
    "sign_document",
    "submit_claim",
    "validation_context",
    "void_document",
    "withdraw_scan",
]
