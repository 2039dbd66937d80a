"""Reading scans: each attached scan converted to PDF/A with a text layer (``archive.scans``),
the result stored as a blob and recorded in a ``ScanRead`` event.

OCR takes a second or more a page, so it never runs while a clerk waits at the counter: the
upload is stored and attached at once, and the reading happens afterwards: ``archive ocr``
reads every scan still waiting (from cron, or after the day's uploads), converting on every
core, and sealing a month or printing a document reads the scans it binds first, so that the
bound version names its readings and a bundle can prove its scan pages. A reading is a
machine's record, not a person's act: it needs no permission and changes no signature or
status.

A scan that cannot be converted is left unread (and said so); the bundle then shows its
original pages, as it did before scans were read.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from archive.bootstrap import Archive
from archive.scans.readings import unread_scans
from events.document import Document

if TYPE_CHECKING:
    from archive.scans.ocr import Converted

log = logging.getLogger(__name__)

# A derived PDF/A may be larger than its scan (a text layer and an embedded font subset).
DERIVED_SIZE_FACTOR = 4
SAVE_ATTEMPTS = 5

# scans done, scans in all
Progress = Callable[[int, int], None]


@dataclass
class ReadingSummary:
    scans: int = 0
    pages: int = 0
    seconds: float = 0.0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (number, sha, why)

    @property
    def seconds_per_page(self) -> float:
        return self.seconds / self.pages if self.pages else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "scans": self.scans,
            "pages": self.pages,
            "seconds": round(self.seconds, 2),
            "seconds_per_page": round(self.seconds_per_page, 2),
            "failed": [
                {"number": number, "sha256": sha, "reason": why} for number, sha, why in self.failed
            ],
        }


def read_documents(
    archive: Archive,
    documents: list[Document],
    progress: Progress | None = None,
    workers: int | None = None,
) -> tuple[list[Document], ReadingSummary]:
    """Read every waiting scan of ``documents`` (converted on every core); the documents as
    they stand afterwards, in the same order, and what was done."""
    summary = ReadingSummary()
    waiting = [(d, scan) for d in documents for scan in unread_scans(d)]
    if progress is not None:
        progress(0, len(waiting))
    latest = {d.id: d for d in documents}
    started = time.perf_counter()
    jobs = [(archive.blobs.local_path(scan.sha256), scan.media_type) for _, scan in waiting]
    for index, outcome in _converted(jobs, workers):
        doc, scan = waiting[index]
        if isinstance(outcome, Exception):
            log.warning("scan %s of %s could not be read: %s", scan.sha256, doc.number, outcome)
            summary.failed.append((doc.number, scan.sha256, str(outcome)))
        else:
            derived = archive.blobs.put_bytes(
                outcome.pdf, max_bytes=archive.blobs.max_bytes * DERIVED_SIZE_FACTOR
            )
            latest[doc.id] = _record(archive, doc.id, scan.sha256, derived.sha256, outcome)
            summary.scans += 1
            summary.pages += outcome.pages
        if progress is not None:
            progress(summary.scans + len(summary.failed), len(waiting))
    summary.seconds = time.perf_counter() - started
    return [latest[d.id] for d in documents], summary


def _converted(
    jobs: list[tuple[Path, str]], workers: int | None
) -> Iterator[tuple[int, Converted | Exception]]:
    """Each job's conversion (or why it failed), as they finish; in worker processes when
    there are several (OCR keeps a core busy), forked only from a process without threads,
    as the bundle's render pool does."""
    from archive.scans.ocr import convert_or_error

    workers = min(len(jobs), workers or len(os.sched_getaffinity(0)))
    if workers <= 1:
        for index, (path, media) in enumerate(jobs):
            yield index, convert_or_error(path, media)
        return
    method = "fork" if threading.active_count() == 1 else "forkserver"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(convert_or_error, path, media): i for i, (path, media) in enumerate(jobs)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()


def _record(
    archive: Archive, doc_id: UUID, sha256: str, derived_sha256: str, converted: Converted
) -> Document:
    """Save the reading on the document as it is now (someone may have changed it while OCR
    ran: load it again and retry); no event if the scan was read or withdrawn meanwhile."""
    for _ in range(SAVE_ATTEMPTS):
        doc: Document = archive.app.repository.get(doc_id)
        if all(s.sha256 != sha256 for s in unread_scans(doc)):
            return doc
        doc.trigger_event(
            Document.ScanRead,
            sha256=sha256,
            derived_sha256=derived_sha256,
            text=converted.text,
            pages=converted.pages,
            engine=converted.engine,
            page_fingerprints=list(converted.page_fingerprints),
            timestamp=archive.now(),
        )
        try:
            archive.app.save(doc)
            return doc
        except IntegrityError:
            continue
    raise RuntimeError(f"could not record the reading of {sha256}: the document kept changing")


def documents_with_unread_scans(archive: Archive) -> list[UUID]:
    """Every document that took a scan and has one still waiting, in filing order of scans."""
    reader = archive.log()
    topic = get_topic(Document.ScanAttached)
    ids: dict[UUID, None] = {}
    position = 0
    while True:
        batch = reader.read(position, 1000, topics=[topic])
        if not batch:
            break
        for notification in batch:
            ids.setdefault(notification.originator_id, None)
        position = batch[-1].id
    waiting = []
    for doc_id in ids:
        doc: Document = archive.app.repository.get(doc_id)
        if unread_scans(doc):
            waiting.append(doc_id)
    return waiting


def read_pending_scans(archive: Archive, progress: Progress | None = None) -> ReadingSummary:
    """Read every scan in the archive still waiting (``archive ocr``)."""
    documents = [archive.app.repository.get(i) for i in documents_with_unread_scans(archive)]
    return read_documents(archive, documents, progress)[1]


def read_scans_before_binding(archive: Archive, documents: list[Document]) -> list[Document]:
    """``documents`` with every waiting scan read first (sealing, printing)."""
    if not any(unread_scans(d) for d in documents):
        return documents
    return read_documents(archive, documents)[0]
