"""Sealing a month volume: the month's documents, as they stand, bound for good.

Which documents are the month's comes from the month projection (caught up to the log's end
first); what is sealed — version, content hash, and whether anything still blocks — comes
from the aggregates themselves, loaded from the repository.

A sealed volume never changes. A document filed later for a sealed month goes into the next
supplement (``2026-10 补1``), sealed by sealing the month again. A sealed document that is
amended later stays in its volume as sealed (version and hash); the month page flags it as
changed since the seal. It does not enter a supplement: a document is bound once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from archive.bootstrap import Archive
from archive.commands.common import require_actor, require_reason
from archive.commands.ocr import read_documents
from archive.errors import Conflict
from archive.integrity.checkpoints import checkpoint_after_seal
from archive.kinds.catalog import RegistryClosingCatalog
from archive.kinds.registry import get_kind
from archive.queries.months import blocker_text
from archive.queries.volumes import parse_month, registry_order, sealed_volumes
from archive.scans.readings import unread_scans
from archive.staff.permissions import SEAL, require
from events.document import Document
from events.volume import MonthVolume, volume_label
from projections.closing import Blocker, document_blockers

# Called with the archive and the new volume once it is saved (e.g. to write an integrity
# checkpoint that covers the seal). The seal stands whatever the hook does.
AfterSeal = Callable[[Archive, MonthVolume], Any]
# stage (a key of SEAL_STAGE_LABELS), done, total
Progress = Callable[[str, int, int], None]
SEAL_STAGE_LABELS = {"load": "读取单据", "ocr": "识别扫描件"}
# Snapshots taken before giving up on a month whose documents keep changing while it is sealed.
SNAPSHOT_ATTEMPTS = 3


class SealBlocked(Conflict):
    """The month still has open items; nothing was sealed."""

    def __init__(self, label: str, blockers: list[Blocker]) -> None:
        first = blockers[0]
        super().__init__(
            "month_not_closable",
            f"{label} 还有 {len(blockers)} 项未完成，不能封存（例如 "
            f"{get_kind(first.kind).label} {first.number}：{blocker_text(first)}）；"
            "如确需封存，请写明原因强制封存",
            f"{label} has {len(blockers)} open items; seal with a written reason to force it",
        )
        self.blockers = blockers


def seal_month(
    archive: Archive,
    month: str,
    actor: str,
    force_reason: str | None = None,
    *,
    after_seal: AfterSeal | None = checkpoint_after_seal,
    progress: Progress | None = None,
) -> MonthVolume:
    """Seal the next volume of ``month``: the main volume first, then supplements.

    Only a service manager seals. While anything blocks, the seal is refused unless
    ``force_reason`` says why it must happen anyway; the reason and the open items are
    recorded in the ``Sealed`` event.

    Scans are read (OCR, PDF/A) first, so that the sealed versions name their readings and
    the volume's bundles show, and prove, the PDF/A pages (archive/commands/ocr.py). Reading
    takes minutes, and the desk works on meanwhile: only then is the snapshot taken (which
    documents, at which version), and it is taken again if any of its documents changed
    before the volume was saved, so that the volume records the month as it stood when sealed.
    """
    require(require_actor(archive, actor), SEAL)
    month = parse_month(month)
    reason = require_reason(force_reason, "force_reason") if force_reason is not None else None
    report = progress or _silent
    # A first look refuses an empty or blocked month at once, before any scan is read.
    _read_scans(archive, _snapshot(archive, month, reason, report)[1], report)
    for _ in range(SNAPSHOT_ATTEMPTS):
        head = archive.log().head()
        supplement, documents, blockers = _snapshot(archive, month, reason, report)
        label = volume_label(month, supplement)
        if any(unread_scans(d) for d in documents):
            _read_scans(archive, documents, report)  # a scan attached while the others were read
            continue
        volume = _volume(archive, month, supplement, documents, blockers, actor, reason)
        if _changed_since(archive, head, documents):
            continue
        try:
            archive.app.save(volume)
        except IntegrityError:
            raise Conflict(
                "volume_already_sealed",
                f"{label} 刚被别人封存，请刷新后再看",
                f"{label} was sealed by someone else at the same moment",
            ) from None
        if after_seal is not None:
            after_seal(archive, volume)
        return volume
    raise Conflict(
        "month_kept_changing",
        f"{label} 的单据在封存时一直有人在修改，没有封存；请稍后再封存",
        f"{label}: its documents kept changing while it was being sealed; nothing was sealed",
    )


def _snapshot(
    archive: Archive, month: str, reason: str | None, report: Progress
) -> tuple[int, list[Document], list[Blocker]]:
    """The next volume's supplement number (0: the main volume), its documents as they stand
    and what still blocks; refused when there is nothing to seal, or something blocks and no
    reason forces it."""
    earlier = sealed_volumes(archive, month)
    label = volume_label(month, len(earlier))
    documents = _unsealed_documents(archive, month, earlier, report)
    if not documents:
        raise Conflict(
            "nothing_to_seal",
            f"{month} 没有尚未封存的单据" if earlier else f"{month} 没有任何单据",
            f"{month} has no documents left to seal",
        )
    catalog = RegistryClosingCatalog()
    blockers = [b for doc in documents for b in _blockers(catalog, doc)]
    if blockers and reason is None:
        raise SealBlocked(label, blockers)
    return len(earlier), documents, blockers


def _read_scans(archive: Archive, documents: list[Document], report: Progress) -> None:
    """Read every waiting scan of ``documents`` (reported even when there is none, so that
    the command says what it is doing)."""
    read_documents(archive, documents, lambda done, total: report("ocr", done, total))


def _volume(
    archive: Archive,
    month: str,
    supplement: int,
    documents: list[Document],
    blockers: list[Blocker],
    actor: str,
    reason: str | None,
) -> MonthVolume:
    entries = [
        {
            "id": str(doc.id),
            "kind": doc.kind,
            "number": doc.number,
            "version": doc.version,
            "content_hash": doc.content_hash,
        }
        for doc in documents
    ]
    return MonthVolume.seal(
        month,
        supplement,
        entries,
        actor,
        archive.now(),
        # A reason given when nothing blocked forced nothing; it is not recorded as forcing.
        forced_reason=reason if blockers else None,
        open_blockers=[b.as_dict() for b in blockers],
    )


def _changed_since(archive: Archive, head: int, documents: list[Document]) -> bool:
    """Whether any of ``documents`` has an event after log position ``head``."""
    ids = {doc.id for doc in documents}
    reader = archive.log()
    while True:
        batch = reader.read(head, 1000)
        if not batch:
            return False
        if any(n.originator_id in ids for n in batch):
            return True
        head = batch[-1].id


def _silent(stage: str, done: int, total: int) -> None:
    """No progress shown."""


def _unsealed_documents(
    archive: Archive, month: str, earlier: list[MonthVolume], report: Progress
) -> list[Document]:
    """The month's documents in no volume yet, loaded from the repository, in binding order."""
    already = {doc_id for volume in earlier for doc_id in volume.document_ids()}
    with archive.month_volumes() as index:
        candidates = [d.doc_id for d in index.unsealed(month) if d.doc_id not in already]
    documents = []
    report("load", 0, len(candidates))
    for done, doc_id in enumerate(candidates, 1):
        doc: Document = archive.app.repository.get(UUID(doc_id))
        report("load", done, len(candidates))
        # The aggregate has the last word on which month a document belongs to.
        if f"{doc.fields['business_date']:%Y-%m}" == month:
            documents.append(doc)
    documents.sort(key=lambda d: registry_order(d.kind, d.number))
    return documents


def _blockers(catalog: RegistryClosingCatalog, doc: Document) -> list[Blocker]:
    return document_blockers(
        catalog,
        doc_id=str(doc.id),
        kind=doc.kind,
        number=doc.number,
        voided=doc.voided is not None,
        missing_roles=doc.missing_roles(list(catalog.signers(doc.kind))),
        has_active_scan=bool(doc.paper_scans()),
        submitted=doc.submission is not None,
    )
