"""Content-addressed storage of scans (and signature images, and finished bundles).

A blob is named by its SHA-256 alone, never by anything a user typed. Every upload passes the
same intake (:mod:`intake`: streamed, measured against the limit, typed by its first bytes);
every reader (bundles, pages, OCR, the scan pages, verify-bundle) goes through
:class:`BlobStore`, wherever the settings keep the blobs (:mod:`choice`): files in the home,
files in a folder every server mounts, or PostgreSQL (:mod:`table`).
"""

from archive.blobs.choice import open_blob_store, scan_store
from archive.blobs.intake import (
    CHUNK,
    BlobRejected,
    StoredBlob,
    display_filename,
    sniff_media_type,
)
from archive.blobs.store import STALE_UPLOAD_SECONDS, BlobDamaged, BlobStore
from archive.blobs.table import BlobTable

__all__ = [
    "CHUNK",
    "STALE_UPLOAD_SECONDS",
    "BlobDamaged",
    "BlobRejected",
    "BlobStore",
    "BlobTable",
    "StoredBlob",
    "display_filename",
    "open_blob_store",
    "scan_store",
    "sniff_media_type",
]
