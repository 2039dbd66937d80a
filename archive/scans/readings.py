"""What OCR has made of a document's scans, and which scans still wait for it.

``Document.ScanRead`` records a reading; the aggregate keeps them by the original's SHA-256 in
``readings`` (absent on a document that never had one). A scan waits for reading while it is
active, unread, and not a drawn signature (an image that a ``Signed`` event shows in the
signature block, never printed as a page).
"""

from __future__ import annotations

from typing import Any

from events.document import Document
from events.document_state import Scan

SIGNATURE_MEDIA = ("image/png", "image/jpeg")


def scan_readings(doc: Document) -> dict[str, Any]:
    """Original SHA-256 -> its ``ScanRead`` event, for the version ``doc`` stands at."""
    return dict(getattr(doc, "readings", {}))


def shown_as_signature(doc: Document, scan: Scan) -> bool:
    """An image a signature shows (the pad's drawing, or a photo of the signed slip)."""
    return scan.media_type in SIGNATURE_MEDIA and any(
        s.image_sha256 == scan.sha256 for s in doc.signatures
    )


def unread_scans(doc: Document) -> list[Scan]:
    """The active scans that are printed as pages and have no reading yet."""
    read = scan_readings(doc)
    return [
        s for s in doc.active_scans() if s.sha256 not in read and not shown_as_signature(doc, s)
    ]
