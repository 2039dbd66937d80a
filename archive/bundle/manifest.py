"""``manifest.json``: what a bundle holds, embedded in the PDF as a PDF/A-3 associated file.

For each document (:func:`document_facts`): id, kind, number, the version bound, its content
hash, whether it is voided, its scans and signature images by SHA-256, and the events that made
that version, each named by an event id (:func:`event_id`). For a volume
(:func:`volume_facts`): the seal (who, when, any forced reason and what was open), the sealed
list and its hash; and ``left_out``, the volume's documents of the binding's kinds that it does
not hold (a voided claim is not returned), so that a removed document stands out.

And the proof (``archive.integrity.proofs``): a signed checkpoint with the archive's public key,
and with every event (the documents', the left-out ones' and the volume's seal) its stored bytes,
its leaf hash and its inclusion proof under that checkpoint, so that ``archive verify-bundle``
needs nothing but the PDF. Everything stated of a document or volume follows from its events;
the checker replays them through these same functions and compares.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from archive.bootstrap import Archive
from archive.bundle.layout import print_facts
from archive.integrity.proofs import Proofs, prove_events
from archive.queries.volumes import BoundDocument
from events.document import Document
from events.volume import MonthVolume

FORMAT = "dealer-archive/bundle-manifest/2"
MANIFEST_NAME = "manifest.json"
SINGLE = "single"  # the binding of one document printed alone

# Every field a manifest may have, where it may have it: ``verify-bundle`` refuses any other
# (a field nothing checks would be a claim nobody vouches for). Kept beside the functions that
# write them; tests/test_pdf_signature.py checks that the two agree.
MANIFEST_FIELDS = frozenset(
    {"format", "dealer", "binding", "proof", "documents", "volume", "left_out", "print_facts"}
)
PROOF_FIELDS = frozenset({"checkpoint", "origin", "tree_size", "root", "public_key", "leaf_format"})
DOCUMENT_FIELDS = frozenset(
    {"id", "kind", "number", "version", "content_hash", "event_id", "voided", "scans"}
    | {"signature_images", "events"}
)
VOLUME_FIELDS = frozenset(
    {"id", "month", "supplement", "label", "sealed_at", "sealed_by", "seal_event_id"}
    | {"forced_reason", "open_blockers", "list_hash", "entries", "events"}
)
EVENT_FIELDS = frozenset(
    {"event_id", "version", "type", "timestamp", "notification_id", "topic", "state"}
    | {"state_base64", "leaf_index", "leaf_hash", "inclusion_proof"}
)


def event_id(originator_id: UUID | str, version: int) -> str:
    """An event's id: its aggregate's id and the version the event gave it (unique, stable)."""
    return f"{originator_id}/{version}"


def build_manifest(
    archive: Archive,
    documents: list[BoundDocument],
    *,
    binding: str,
    volume: MonthVolume | None = None,
    left_out: list[BoundDocument] | None = None,
) -> dict[str, Any]:
    """The manifest of a bundle of ``documents`` (of ``volume``, when it is a sealed volume).

    ``left_out``: the volume's documents of the binding's kinds that it does not hold; they are
    listed with their proofs too, so that a document removed from a bundle cannot pass as one
    the binding leaves out.
    """
    left_out = left_out or []
    volume_events = list(archive.app.stored_events(volume.id)) if volume is not None else []
    wanted = [(b.doc.id, e.originator_version) for b in [*documents, *left_out] for e in b.events]
    wanted += [(e.originator_id, e.originator_version) for e in volume_events]
    proofs = prove_events(archive, wanted)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "dealer": archive.settings.dealer_name,
        "binding": binding,
        "proof": proofs.header(),
        "documents": [_with_events(document_facts(d.doc), d.events, proofs) for d in documents],
        # Names, time zone and file facts the forms were laid out with (the cell check's).
        "print_facts": print_facts(archive, documents),
    }
    if volume is not None:
        manifest["volume"] = _with_events(volume_facts(volume), volume_events, proofs)
        manifest["left_out"] = [
            _with_events(document_facts(d.doc), d.events, proofs) for d in left_out
        ]
    return manifest


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """UTF-8 JSON, keys sorted, indented for people who open the attachment."""
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()


def document_facts(doc: Document) -> dict[str, Any]:
    """What a manifest states of a document; all of it follows from the document's events, so
    ``verify-bundle`` replays them and compares."""
    return {
        "id": str(doc.id),
        "kind": doc.kind,
        "number": doc.number,
        "version": doc.version,
        "content_hash": doc.content_hash,
        "event_id": event_id(doc.id, doc.version),
        "voided": doc.voided is not None,
        "scans": [
            {"sha256": s.sha256, "media_type": s.media_type, "active": s.active} for s in doc.scans
        ],
        "signature_images": sorted({s.image_sha256 for s in doc.signatures if s.image_sha256}),
    }


def volume_facts(volume: MonthVolume) -> dict[str, Any]:
    """What a manifest states of a sealed volume; all of it follows from its ``Sealed`` event."""
    return {
        "id": str(volume.id),
        "month": volume.month,
        "supplement": volume.supplement,
        "label": volume.label,
        "sealed_at": _instant(volume.sealed_at),
        "sealed_by": volume.sealed_by,
        "seal_event_id": event_id(volume.id, volume.version),
        "forced_reason": volume.forced_reason,
        "open_blockers": volume.open_blockers,
        "list_hash": volume.list_hash,
        "entries": volume.entries,
    }


def event_facts(event: Any) -> dict[str, Any]:
    """How a manifest names one event (its proof is added beside)."""
    return {
        "event_id": event_id(event.originator_id, event.originator_version),
        "version": event.originator_version,
        "type": type(event).__name__,
        "timestamp": _instant(event.timestamp),
    }


def _with_events(facts: dict[str, Any], events: Sequence[Any], proofs: Proofs) -> dict[str, Any]:
    proved = [
        event_facts(e) | proofs.events[(e.originator_id, e.originator_version)].as_dict()
        for e in events
    ]
    return facts | {"events": proved}


def _instant(moment: datetime) -> str:
    return moment.isoformat()
