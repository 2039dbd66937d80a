"""``archive verify-bundle``: check a bundle PDF with nothing but the PDF (and, better, the key).

The chain an auditor needs, link by link:

0. the PDF signature (PAdES, ``signature``) is valid by pyHanko's validator, its certificate
   issued by the archive's key, and nothing follows the signed bytes: no incremental update,
   no trailing byte, no annotation but the archive's own invisible signature field
   (``revisions``); the manifest, inside the signed bytes, names the dealer of the certificate
   and has no field the format lacks;
1. the checkpoint in the manifest is signed by the archive's key (the one given with ``--key``,
   else the one the bundle carries, which shows only that the file agrees with itself);
2. every event's leaf hash is recomputed from the stored bytes the manifest carries, and its
   inclusion proof leads from that leaf to the checkpoint's root;
3. replaying each document's events (versions 1 to the bound one) gives everything the
   manifest states of it; replaying the volume's seal gives the volume and its sealed list;
4. the binding holds exactly what its rule takes from that list: each document bound once, and
   each one left out proved to be one the rule leaves out (a voided claim);
5. every page is numbered ``第 i 页 / 共 N 页`` in order, so none was taken out or added;
6. every form printed in the PDF shows its document's content hash (first 12 digits) once, no
   form is printed that the manifest does not hold, and each form's pages show, cell by cell
   in the order they are drawn, the form laid out again from its replayed events (``forms``:
   every field, line table, 办理记录, signature and 变更记录 cell; staff names, time zone and
   what each file is from the manifest's ``print_facts``); the return binding's fee summary
   likewise shows the replayed claims, the submitted ones counted, the others apart.

Every failed link is a :class:`~archive.integrity.findings.Finding` naming the document and event
concerned; a file made to break the reader is a failed check, never a crash.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from typing import IO, Any

from pypdf import PdfReader

from archive.bundle.check.binding import check_what_is_bound
from archive.bundle.check.documents import proved_documents
from archive.bundle.check.manifest import (
    check_fields,
    embedded_key,
    read_checkpoint,
    read_manifest,
)
from archive.bundle.check.pages import check_pages
from archive.bundle.check.report import BoundRef, BundleReport
from archive.bundle.check.revisions import check_annotations, check_revisions
from archive.bundle.check.signature import check_signature
from archive.integrity.keys import VerifierKey

__all__ = ["CHECK_STAGE_LABELS", "BoundRef", "BundleReport", "check_bundle"]

log = logging.getLogger(__name__)

# Progress (stage, done, total) of a long check, for a progress bar or a page that polls.
Progress = Callable[[str, int, int], None]
CHECK_STAGE_LABELS = {"signature": "核对数字签名", "proofs": "核对包含证明", "pages": "逐页读取"}


def check_bundle(
    pdf: bytes | IO[bytes],
    key: VerifierKey | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> BundleReport:
    """Check one bundle; ``key`` is the archive's public key when the auditor has it;
    ``workers``: processes reading a long file's pages (default: every core)."""
    started = time.perf_counter()
    report = BundleReport(key_source="given" if key else "embedded")
    try:
        stream = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
        _check(stream, key, report, progress or (lambda stage, done, total: None), workers)
    except Exception as error:  # a file crafted to break the reader fails the check
        log.exception("verify-bundle could not finish")
        report.add(
            "check_failed",
            "核验中途出错，未能完成（文件可能被刻意损坏，也可能是本系统的问题）；"
            "请把文件交给管理员",
            f"the check could not finish: {error or type(error).__name__} "
            "(a file damaged on purpose, or a bug in the checker; see the log)",
        )
    report.seconds = time.perf_counter() - started
    return report


def _check(
    stream: IO[bytes],
    key: VerifierKey | None,
    report: BundleReport,
    progress: Progress,
    workers: int | None = None,
) -> None:
    try:
        reader = PdfReader(stream)
        report.pages = len(reader.pages)
    except Exception as error:  # pypdf raises many kinds of error on a damaged file
        report.add(
            "not_a_pdf",
            "无法读取该文件：它不是 PDF，或已损坏",
            f"cannot read the PDF: {error}",
        )
        return
    manifest = read_manifest(reader, report)
    if manifest is not None:
        _check_contents(stream, manifest, key, report, progress, workers)
    # Last, so that the first finding of a tampered file names the document concerned.
    progress("signature", 0, 1)
    signed = check_signature(stream, key or embedded_key(manifest), report)
    if signed is not None:
        report.signed_by, report.signed_at = signed.dealer, signed.signed_at
        check_revisions(stream, signed, report)
        check_annotations(signed, report)
    if manifest is not None:
        check_fields(manifest, signed, report)
    progress("signature", 1, 1)


def _check_contents(
    stream: IO[bytes],
    manifest: dict[str, Any],
    key: VerifierKey | None,
    report: BundleReport,
    progress: Progress,
    workers: int | None = None,
) -> None:
    """Links 1 to 6: the proofs, the replay, the binding and the pages."""
    binding = manifest.get("binding")
    report.binding = binding if isinstance(binding, str) else None
    checkpoint = read_checkpoint(manifest, key, report)
    if checkpoint is None:
        return
    progress("proofs", 0, 1)
    documents = proved_documents(manifest.get("documents"), "documents", checkpoint, report)
    left = proved_documents(manifest.get("left_out", []), "left_out", checkpoint, report)
    report.documents, report.left_out = len(documents), len(left)
    report.bound = [BoundRef(d.kind, d.number, d.id, d.version, d.content_hash) for d in documents]
    sealed = check_what_is_bound(manifest, documents, left, checkpoint, report)
    progress("proofs", 1, 1)
    check_pages(stream, manifest, documents, sealed, report, progress, workers)
