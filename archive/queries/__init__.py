"""The read side: plain data (English keys, Chinese labels) for the CLI, the pages and the API.

- :mod:`archive.queries.documents`: a document now, at a version or an instant; its history;
  how it differs from a copy a bundle holds;
- :mod:`archive.queries.volumes`: sealed month volumes and their documents as sealed;
- :mod:`archive.queries.months`: a month at a glance and what blocks its seal;
- :mod:`archive.queries.worklists`: each person's worklist;
- :mod:`archive.queries.scans`: which stored file may be served, and as what.

The document queries are also importable from here (``queries.show(...)``).
"""

from archive.queries.documents import (
    EVENT_LABELS,
    STATUS_LABELS,
    changes_since,
    document_view,
    get_document,
    history,
    local,
    parse_day,
    parse_instant,
    show,
    staff_name,
    staff_names,
    today,
    view_of,
)

__all__ = [
    "EVENT_LABELS",
    "STATUS_LABELS",
    "changes_since",
    "document_view",
    "get_document",
    "history",
    "local",
    "parse_day",
    "parse_instant",
    "show",
    "staff_name",
    "staff_names",
    "today",
    "view_of",
]
