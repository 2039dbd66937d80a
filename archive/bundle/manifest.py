"""``manifest.json``: what a bundle holds, embedded in the PDF as a PDF/A-3 associated file.

For each document: id, kind, number, the version bound, its content hash, and the events that
made that version, each named by an event id (:func:`event_id`); its scans and signature
images by SHA-256. For the volume: the sealed list and its hash, so the list can be checked
from the manifest alone.

And the proof (``archive.integrity.proofs``): a signed checkpoint with the archive's public key,
and with every event (the documents' and the volume's seal) its stored bytes, its leaf hash and
its inclusion proof under that checkpoint, so that ``archive verify-bundle`` needs nothing but
the PDF. :func:`build_manifest` is the one place that shapes it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from archive.bootstrap import Archive
from archive.integrity.proofs import Proofs, prove_events
from archive.volumes import BoundDocument
from events.volume import MonthVolume

FORMAT = "dealer-archive/bundle-manifest/2"
MANIFEST_NAME = "manifest.json"


def event_id(originator_id: UUID | str, version: int) -> str:
    """An event's id: its aggregate's id and the version the event gave it (unique, stable)."""
    return f"{originator_id}/{version}"


def build_manifest(
    archive: Archive,
    documents: list[BoundDocument],
    *,
    binding: str,
    volume: MonthVolume | None = None,
) -> dict[str, Any]:
    """The manifest of a bundle of ``documents`` (of ``volume``, when it is a sealed volume)."""
    wanted = [(b.doc.id, e.originator_version) for b in documents for e in b.events]
    if volume is not None:
        wanted.append((volume.id, volume.version))
    proofs = prove_events(archive, wanted)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "dealer": archive.settings.dealer_name,
        "binding": binding,
        "proof": proofs.header(),
        "documents": [_document(d, proofs) for d in documents],
    }
    if volume is not None:
        manifest["volume"] = {
            "id": str(volume.id),
            "month": volume.month,
            "supplement": volume.supplement,
            "label": volume.label,
            "sealed_at": _instant(volume.sealed_at),
            "sealed_by": volume.sealed_by,
            "seal_event_id": event_id(volume.id, volume.version),
            "events": [
                {
                    "event_id": event_id(volume.id, volume.version),
                    "version": volume.version,
                    "type": "Sealed",
                    "timestamp": _instant(volume.sealed_at),
                    **proofs.events[(volume.id, volume.version)].as_dict(),
                }
            ],
            "forced_reason": volume.forced_reason,
            "list_hash": volume.list_hash,
            "entries": volume.entries,
        }
    return manifest


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """UTF-8 JSON, keys sorted, indented for people who open the attachment."""
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()


def _document(bound: BoundDocument, proofs: Proofs) -> dict[str, Any]:
    doc = bound.doc
    events = [
        {
            "event_id": event_id(doc.id, event.originator_version),
            "version": event.originator_version,
            "type": type(event).__name__,
            "timestamp": _instant(event.timestamp),
            **proofs.events[(doc.id, event.originator_version)].as_dict(),
        }
        for event in bound.events
    ]
    return {
        "id": str(doc.id),
        "kind": bound.kind.code,
        "number": doc.number,
        "version": doc.version,
        "content_hash": doc.content_hash,
        "event_id": event_id(doc.id, doc.version),
        "voided": doc.voided is not None,
        "events": events,
        "scans": [
            {"sha256": s.sha256, "media_type": s.media_type, "active": s.active} for s in doc.scans
        ],
        "signature_images": sorted({s.image_sha256 for s in doc.signatures if s.image_sha256}),
    }


def _instant(moment: datetime) -> str:
    return moment.isoformat()
