"""The one rule for serving a stored file: only as a scan some document took.

The blob store also holds files no document took (an upload whose command was then refused):
those are nobody's to read. A withdrawn scan stays in the history, and stays readable. A file
is served with the media type and name its document recorded, and only while its bytes are in
the blob store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archive.bootstrap import Archive
from archive.errors import NotFound
from events.document import Document
from projections.runner import catch_up
from projections.scans import ScanIndex


@dataclass(frozen=True)
class ServedScan:
    path: Path
    sha256: str
    media_type: str
    filename: str


def served_scan(
    archive: Archive,
    sha256: str,
    *,
    document: Document | None = None,
    index: ScanIndex | None = None,
) -> ServedScan:
    """The file ``sha256`` as ``document`` took it, or (with ``index``) as the first document
    that took it did; :class:`NotFound` for any other file."""
    if document is not None:
        scan = next((s for s in document.scans if s.sha256 == sha256), None)
        taken = None if scan is None else (scan.media_type, scan.filename)
    else:
        assert index is not None, "give the document or the scan index"
        found = index.first_attached(sha256)
        if found is None:  # attached a moment ago, before the index followed the log?
            catch_up(index, archive.log())
            found = index.first_attached(sha256)
        taken = None if found is None else (found.media_type, found.filename)
    if taken is None or not archive.blobs.exists(sha256):
        raise NotFound("scan_not_found", "没有这个扫描件", "no attached scan with that SHA-256")
    return ServedScan(archive.blobs.local_path(sha256), sha256, *taken)
