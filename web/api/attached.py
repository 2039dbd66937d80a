"""Which document a stored blob was attached to, so only attached blobs are ever served.

The blob store also holds files no document took (an upload whose command was then refused,
say), and no projection maps a SHA-256 to its document. Like ``archive.staff_directory``, this
lets the database pick the ``ScanAttached`` events out of the log on first use and then reads
only what was added since, and only when a hash is not known yet: attachments never go away
(a withdrawn scan stays in the history, and stays readable).
"""

from __future__ import annotations

import threading
from uuid import UUID

from eventsourcing.utils import get_topic
from fastapi import Request

from events.application import ArchiveApplication
from events.document import Document

SCAN_TOPICS = (get_topic(Document.ScanAttached),)
BATCH = 500


class AttachedScans:
    def __init__(self, app: ArchiveApplication) -> None:
        self._app = app
        self._documents: dict[str, UUID] = {}
        self._position = 0
        self._lock = threading.Lock()

    def document_of(self, sha256: str) -> UUID | None:
        """The id of a document the blob was attached to, or ``None``."""
        with self._lock:
            if sha256 not in self._documents:
                self._read_new()
            return self._documents.get(sha256)

    def _read_new(self) -> None:
        head = self._app.head()
        while self._position < head:
            batch = self._app.recorder.select_notifications(
                start=self._position,
                limit=BATCH,
                stop=head,
                topics=SCAN_TOPICS,
                inclusive_of_start=False,
            )
            for notification in batch:
                event = self._app.mapper.to_domain_event(notification)
                self._documents.setdefault(event.sha256, event.originator_id)
            self._position = batch[-1].id if len(batch) == BATCH else head


_CREATE_LOCK = threading.Lock()


def attached_scans(request: Request) -> AttachedScans:
    """The app's one index, made on first use (no change to how the app is built)."""
    state = request.app.state
    with _CREATE_LOCK:
        if not hasattr(state, "attached_scans"):
            state.attached_scans = AttachedScans(request.app.state.archive.app)
    return state.attached_scans
