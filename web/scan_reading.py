"""Scans read by OCR soon after they are uploaded, in the background of the web server.

An upload answers as soon as the original is stored; the reading (PDF/A with a Chinese text
layer, ``archive.commands.ocr``) takes a few seconds a page and follows in one thread, a scan
at a time, so a clerk at the counter never waits for it and a manager sealing the month finds
the month's scans already read. Whatever is not read here (the server stopped, a reading
failed) is read by ``archive ocr`` or when the month is sealed.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from archive.bootstrap import Archive
from archive.commands.ocr import read_documents
from archive.scans.readings import unread_scans

log = logging.getLogger(__name__)


class ScanReader:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-reading")

    def after_upload(self, doc: Any) -> Any:
        """Queue the reading of ``doc``'s waiting scans; ``doc`` back, for the caller."""
        if unread_scans(doc):
            self.executor.submit(self._read, doc.id)
        return doc

    def _read(self, doc_id: UUID) -> None:
        try:
            doc = self.archive.app.repository.get(doc_id)
            _, summary = read_documents(self.archive, [doc], workers=1)
            for number, sha256, why in summary.failed:
                log.warning("scan %s of %s left for archive ocr: %s", sha256, number, why)
        except Exception:  # a background thread: log it, archive ocr reads it later
            log.exception("reading the scans of %s failed", doc_id)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


# ``doc``: the Document the write path returned (web sees events only through ``archive``).
def after_upload(app_state: object, doc: Any) -> Any:
    """Hand ``doc`` to the app's reader, if this server reads scans (``archive serve`` does)."""
    reader: ScanReader | None = getattr(app_state, "scan_reader", None)
    return reader.after_upload(doc) if reader is not None else doc
