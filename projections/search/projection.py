"""The search projection: one index entry per document (its current version), plus one per
replaced content version so auditors can find text an amendment replaced (``history:yes``
searches both: the current entry holds the latest content)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from events.application import ArchiveApplication, fold
from events.document import Document
from events.staff import Staff
from projections.catalog import KindCatalog
from projections.flags import LATE_SUBMISSION, SUBMISSION_DUE, document_flags, with_overdue
from projections.runner import DEFAULT_BATCH, Batch, LogReader, Projection
from projections.search.backend import (
    Hit,
    IndexEntry,
    IndexWriter,
    SearchBackend,
    SearchResult,
    day_number,
)
from projections.search.query import (
    AllOf,
    AnyOf,
    DateRange,
    Node,
    Not,
    Term,
    check_page,
    parse,
)

# Notifications read at a time while rebuilding (the index is written once, at the end).
REBUILD_BATCH = 5000


class _SearchBatch(Batch):
    def __init__(self, writer: IndexWriter) -> None:
        self.writer = writer

    @property  # type: ignore[override]
    def position(self) -> int:
        return self.writer.position

    @position.setter
    def position(self, value: int) -> None:
        self.writer.position = value

    def apply(self, notification_id: int, event: Any) -> None:
        """Nothing per event: the batch is indexed as a whole in ``finish_batch``."""


class SearchProjection(Projection):
    name = "search"

    def __init__(
        self,
        backend: SearchBackend,
        app: ArchiveApplication,
        catalog: KindCatalog,
        tz: ZoneInfo,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.backend = backend
        self.app = app
        self.catalog = catalog
        self.tz = tz
        self.clock = clock or (lambda: datetime.now(UTC))

    def position(self) -> int:
        return self.backend.position()

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        with self.backend.writer() as writer:
            yield _SearchBatch(writer)

    def reset(self) -> None:
        self.backend.clear()

    def close(self) -> None:
        self.backend.close()

    def search(self, text: str, page: int = 1, page_size: int = 20) -> SearchResult:
        query = parse(text, self.catalog.kind_aliases())
        check_page(page, page_size)
        today = self.clock().astimezone(self.tz).date()
        query = replace(query, where=self._late_by_today(query.where, today))
        result = self.backend.search(query, page=page, page_size=page_size)
        hits = tuple(self._flag_overdue(h, today) for h in result.hits)
        return replace(result, hits=hits)

    def _overdue(self, today: date) -> list[Node]:
        """Not submitted and past the deadline today, per submittable kind: the business
        date before today minus the kind's days (the rule the claims worklist applies)."""
        overdue: list[Node] = []
        for kind, days in self.catalog.submit_days().items():
            cutoff = today - timedelta(days=days + 1)
            overdue.append(
                AllOf(
                    (
                        Term("kind", kind),
                        Term("flags", SUBMISSION_DUE),
                        DateRange("business_date", date(1990, 1, 1), cutoff),
                    )
                )
            )
        return overdue

    def _late_by_today(self, node: Node, today: date) -> Node:
        """``flag:late_submission`` as the index cannot store it: submitted late, or not
        submitted with the deadline passed by today."""
        if node == Term("flags", LATE_SUBMISSION):
            return AnyOf((node, *self._overdue(today)))
        if isinstance(node, (AllOf, AnyOf)):
            return type(node)(tuple(self._late_by_today(n, today) for n in node.parts))
        if isinstance(node, Not):
            return Not(self._late_by_today(node.part, today))
        return node

    def _flag_overdue(self, hit: Hit, today: date) -> Hit:
        flags = with_overdue(hit.flags, hit.kind, hit.business_date, self.catalog, today)
        return hit if flags == hit.flags else replace(hit, flags=flags)

    # -- indexing -------------------------------------------------------------------------

    def rebuild(self, reader: LogReader, batch_size: int = DEFAULT_BATCH) -> int:
        """The whole index at once: one pass over the log folds every document in memory,
        then the engine writes a fresh index and puts it in place (``replace_all``).

        Gives the entries the incremental batches give: a history entry for each replaced
        content version (as it stood then), the current one, and every entry of a voided
        document marked voided."""
        names: dict[str, str] = {}
        docs: dict[UUID, Document] = {}
        history: dict[UUID, list[IndexEntry]] = {}
        in_force: dict[UUID, IndexEntry] = {}  # each document's content version in force
        position = applied = 0
        while notifications := reader.read(position, REBUILD_BATCH):
            for notification in notifications:
                event = reader.decode(notification)
                if isinstance(event, Staff.Registered):
                    names[event.username] = event.name
                elif isinstance(event, Document.Event):
                    doc_id = event.originator_id
                    if isinstance(event, Document.Amended):
                        history.setdefault(doc_id, []).append(in_force[doc_id])
                    doc = docs[doc_id] = fold((event,), docs.get(doc_id))
                    if isinstance(event, (Document.Filed, Document.Amended)):
                        in_force[doc_id] = self.entry(doc, names, history=True)
            position = notifications[-1].id
            applied += len(notifications)

        def entries() -> Iterator[IndexEntry]:
            for doc_id, doc in docs.items():
                voided = doc.voided is not None
                for entry in history.get(doc_id, ()):
                    entry.doc_voided = voided
                    yield entry
                yield self.entry(doc, names, history=False, doc_voided=voided)

        self.backend.replace_all(entries(), names, position)
        return applied

    def finish_batch(self, batch: Batch, events: Sequence[tuple[int, Any]]) -> None:
        assert isinstance(batch, _SearchBatch)
        writer = batch.writer
        names = self.backend.staff_names()
        by_doc: dict[UUID, list[Any]] = {}
        for _, event in events:
            if isinstance(event, Staff.Registered):
                names[event.username] = event.name
                writer.put_staff(event.username, event.name)
            elif isinstance(event, Document.Event):
                by_doc.setdefault(event.originator_id, []).append(event)
        for doc_id, doc_events in by_doc.items():
            first = doc_events[0].originator_version
            if any(isinstance(e, Document.Voided) for e in doc_events):
                first = 1  # re-index every earlier version too, now marked voided
                doc_events = list(
                    self.app.events.get(doc_id, lte=doc_events[-1].originator_version)
                )
            start: Any = self.app.repository.get(doc_id, version=first - 1) if first > 1 else None
            voided = start is not None and start.voided is not None
            voided = voided or any(isinstance(e, Document.Voided) for e in doc_events)
            doc = start
            in_force: IndexEntry | None = None  # the content version in force, as it was made
            for event in doc_events:
                if isinstance(event, Document.Amended):
                    if in_force is None:  # made in an earlier batch: load it as it stood then
                        made = self.app.repository.get(doc_id, version=doc.content_version)
                        in_force = self.entry(made, names, history=True, doc_voided=voided)
                    writer.put(in_force)
                doc = fold((event,), doc)
                if isinstance(event, (Document.Filed, Document.Amended)):
                    in_force = self.entry(doc, names, history=True, doc_voided=voided)
            writer.put(self.entry(doc, names, history=False, doc_voided=voided))

    def entry(
        self, doc: Document, names: dict[str, str], history: bool, doc_voided: bool = False
    ) -> IndexEntry:
        kind = doc.kind
        fields = doc.fields
        business_date = fields.get("business_date")
        staff = {doc.filed_by}
        for code in self.catalog.staff_fields(kind):
            value = fields.get(code)
            staff.update(value if isinstance(value, list) else [value] if value else [])
        signers = {s.signer for s in doc.signatures if s.role != "customer"}
        current = doc.current_signatures()
        return IndexEntry(
            key=f"{doc.id}@{doc.version}" if history else str(doc.id),
            entry="history" if history else "current",
            doc_id=str(doc.id),
            kind=kind,
            number=doc.number,
            version=doc.version,
            text=self._text(doc),
            business_date=day_number(business_date),
            month=business_date.strftime("%Y-%m") if isinstance(business_date, date) else "",
            status=doc.status(list(self.catalog.signers(kind))),
            flags=document_flags(doc, self.catalog, self.tz),
            vin=str(fields.get("vin") or ""),
            plate=str(fields.get("plate") or ""),
            customer=str(fields.get("customer_name") or ""),
            phone=str(fields.get("customer_phone") or ""),
            staff=_with_names(staff, names),
            signers=_with_names(signers, names),
            filed_at=int(doc.filed_at.timestamp()),
            signed_at=max((int(s.signed_at.timestamp()) for s in current), default=0),
            doc_voided=doc_voided,
            labels=" ".join(self.catalog.value_labels(kind, fields)),
        )

    def _text(self, doc: Document) -> str:
        parts: list[str] = []
        for code in self.catalog.text_fields(doc.kind):
            value = doc.fields.get(code)
            if isinstance(value, list):
                for row in value:
                    cells = row.values() if isinstance(row, dict) else [row]
                    parts.extend(str(c) for c in cells if isinstance(c, str) and c)
            elif value:
                parts.append(str(value))
        if doc.voided:
            parts.append(str(doc.voided["reason"]))
        parts.extend(r.reason for r in doc.refusals)
        parts.extend(_scan_texts(doc))
        return "\n".join(parts)


def _scan_texts(doc: Document) -> list[str]:
    """What OCR read on the document's active scans (``Document.ScanRead``, kept by the
    scan's SHA-256 in ``readings``), last: a hit's snippet comes from the typed fields first.
    A withdrawn scan's text is no longer the document's."""
    readings = getattr(doc, "readings", {})  # absent on a document never read
    return [
        readings[scan.sha256].text
        for scan in doc.active_scans()
        if scan.sha256 in readings and readings[scan.sha256].text
    ]


def _with_names(usernames: set[str], names: dict[str, str]) -> list[str]:
    tokens = set()
    for username in usernames:
        tokens.add(username.lower())
        if username in names:
            tokens.add(names[username])
    return sorted(tokens)
