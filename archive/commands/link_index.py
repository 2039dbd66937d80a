"""Which documents name a given paper in a one-per-target link (the warranty claims of a work
order), for the write path's "one claim per order" rule.

Held in memory per application: seeded once from the worklists read model (caught up with the
log, so claims filed before links were recorded count too), then followed through the log's
``Filed`` and ``LinksRecorded`` notifications only, picked out by the database. A claim costs
a read of the few notifications since the last one and a load of the order's candidates,
instead of catching a projection up per claim (measured: 45 ms a claim that way at 5,000
orders, most of it rewriting worklist rows). The candidates are loaded from the event store
and kept only if they still name the target and are live, so a stale entry (an amended or
voided claim) costs a load, never a wrong answer. Callers hold the claims lock
(``archive.commands.links.link_guard``) around the question and their save.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from archive.bootstrap import Archive
from archive.commands.common import caught_up_worklists
from archive.kinds.registry import KINDS
from events.application import ArchiveApplication
from events.document import Document

# (kind, link field) of every one-per-target link in the registry.
_WATCHED = {
    (kind.code, link.field) for kind in KINDS.values() for link in kind.links if link.one_per_target
}
_TOPICS = (get_topic(Document.Filed), get_topic(Document.LinksRecorded))
_PAGE = 1000


@dataclass
class _Index:
    position: int
    holders: dict[tuple[str, str], set[UUID]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, field_code: str, number: Any, doc_id: UUID) -> None:
        if isinstance(number, str) and number:
            self.holders.setdefault((field_code, number), set()).add(doc_id)


_INDEXES: weakref.WeakKeyDictionary[ArchiveApplication, _Index] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def _seeded(archive: Archive) -> _Index:
    with _INDEXES_LOCK:
        index = _INDEXES.get(archive.app)
        if index is not None:
            return index
        fields = {f for _, f in _WATCHED}
        assert fields <= {"work_order_no"}, "the worklists keep only this link field"
        kinds = sorted({k for k, _ in _WATCHED})
        with caught_up_worklists(archive) as worklists:
            index = _Index(position=worklists.position())
            rows = worklists.query(
                "SELECT doc_id, work_order_no FROM wl_docs"
                f" WHERE kind IN ({','.join('?' * len(kinds))}) AND work_order_no IS NOT NULL",
                tuple(kinds),
            )
        for row in rows:
            index.add("work_order_no", row["work_order_no"], UUID(row["doc_id"]))
        _INDEXES[archive.app] = index
        return index


def _follow(archive: Archive, index: _Index) -> None:
    reader = archive.log()
    head = reader.head()
    while index.position < head:
        page = reader.read(index.position, _PAGE, topics=_TOPICS, stop=head)
        for notification in page:
            event = reader.decode(notification)
            if isinstance(event, Document.Filed):
                for kind_code, field_code in _WATCHED:
                    if event.kind == kind_code:
                        index.add(field_code, event.fields.get(field_code), event.originator_id)
            elif isinstance(event, Document.LinksRecorded):
                for link in event.links:
                    index.add(link["field"], link.get("target_number"), event.originator_id)
        if len(page) < _PAGE:
            index.position = head
        else:
            index.position = page[-1].id


def live_documents_naming(
    archive: Archive, kind_code: str, field_code: str, number: str
) -> list[str]:
    """Numbers of the live ``kind_code`` documents whose ``field_code`` is ``number`` now."""
    assert (kind_code, field_code) in _WATCHED, f"{kind_code}.{field_code} is not indexed"
    index = _seeded(archive)
    with index.lock:
        _follow(archive, index)
        candidates = sorted(index.holders.get((field_code, number), ()))
    found = []
    for doc_id in candidates:
        doc: Document = archive.app.repository.get(doc_id)
        if doc.kind == kind_code and doc.voided is None and doc.fields.get(field_code) == number:
            found.append(doc.number)
    return sorted(found)


def live_papers_naming(archive: Archive, kind_code: str, number: str) -> list[str]:
    """The live documents that name ``kind_code`` ``number`` in any link (a claim's work
    order, a daily report's line), as "label number", for refusing to void what they name.
    Found through the worklists' links (caught up), each confirmed live from the event store."""
    with caught_up_worklists(archive) as worklists:
        rows = [r for r in worklists.naming(kind_code, number) if not r["voided"]]
    found = []
    for row in rows:
        doc: Document = archive.app.repository.get(UUID(row["doc_id"]))
        if doc.voided is None and _names(doc, row["field"], number):
            found.append(f"{KINDS[doc.kind].label} {doc.number}")
    return sorted(set(found))


def _names(doc: Document, field_code: str, number: str) -> bool:
    value = doc.fields.get(field_code)
    if isinstance(value, list):  # a line table: a daily report's lines
        return any(number in row.values() for row in value if isinstance(row, dict))
    return value == number
