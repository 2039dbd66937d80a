"""What a page offers a person: asking the permission table whether to show a button or a link.

Apart from ``web.pages`` so that the templates' environment (``web.templating``) can use it on
every page, the top menu included, without importing the page modules.
"""

from __future__ import annotations

from archive.errors import Forbidden
from archive.kinds.fieldtypes import StaffInfo
from archive.kinds.registry import KINDS, Kind
from archive.staff.permissions import FILE, Action, require


def can(person: StaffInfo, action: Action, kind: Kind | None = None) -> bool:
    """Whether to offer an action; the write path checks again when it is done."""
    try:
        require(person, action, kind)
    except Forbidden:
        return False
    return True


def filable_kinds(person: StaffInfo) -> list[Kind]:
    """The kinds ``person`` may file, in the registry's order."""
    return [kind for kind in KINDS.values() if can(person, FILE, kind)]


def may_file_kind(person: StaffInfo | None, code: str) -> bool:
    """Whether to offer filing a ``code`` document (a worklist's "新建…" link)."""
    return person is not None and code in KINDS and can(person, FILE, KINDS[code])


def may_file(person: StaffInfo | None) -> bool:
    """Whether to offer 新建单据 at all (an auditor files nothing)."""
    return person is not None and bool(filable_kinds(person))
