"""Which documents a document names (its links), read from its fields: the case file of a work
order is every document that names it, directly or through a document that does (a
quick-handling form names the callback that names the order).

Links are read from the link fields the registry declares, so a document filed before the
write path recorded links (``Document.LinksRecorded``) is linked all the same; what was
recorded adds the state of the link (``ok``, ``unlinked``, ``mileage_differs``, ``further``),
and a link nothing recorded is ``unchecked``.
"""

from __future__ import annotations

from typing import Any

from events.document import Document
from projections.catalog import KindCatalog, LinkField

UNCHECKED = "unchecked"  # filed before links were checked and recorded


def _targets(link: LinkField, fields: dict[str, Any]) -> list[str]:
    value = fields.get(link.field)
    if link.column is None:
        return [str(value)] if value not in (None, "") else []
    rows = value if isinstance(value, list) else []
    cells = (row.get(link.column) for row in rows if isinstance(row, dict))
    return list(dict.fromkeys(str(c) for c in cells if c not in (None, "")))


def document_links(doc: Document, catalog: KindCatalog) -> list[dict[str, Any]]:
    """Each document this one names: ``field``, ``target_kind``, ``target_number``, ``state``.
    A value naming no kind (a complaint's number: complaints are not filed here) is left out."""
    found = []
    for link in catalog.links(doc.kind):
        kinds = link.target_kinds
        if link.kind_field is not None:
            chosen = doc.fields.get(link.kind_field)
            kinds = (chosen,) if chosen in link.target_kinds else ()
        if not kinds:
            continue
        recorded = doc.links.get(link.field)
        for number in _targets(link, doc.fields):
            if recorded is None:
                state = UNCHECKED
            elif link.column is not None and recorded.get("state") == "unlinked":
                # One record for the whole table: its detail names the lines' missing orders.
                state = "unlinked" if number in str(recorded.get("detail", "")) else "ok"
            elif recorded.get("target_number") in (number, None):
                state = recorded.get("state") or UNCHECKED
            else:  # a line of a table whose record speaks of another line
                state = "ok"
            target = (recorded or {}).get("target_kind")
            found.append(
                {
                    "field": link.field,
                    "target_kind": target if target in kinds else kinds[0],
                    "target_number": number,
                    "state": state,
                }
            )
    return found
