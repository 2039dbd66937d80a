"""What a printed document shows, as plain data for the print templates.

A print model is JSON-ready (strings, numbers, lists, dicts): it is what the renderer's cache
key hashes and what worker processes receive. Values read as on screen (``archive.kinds.display``);
times are local, to the minute. Files (signature images, scans) are named by SHA-256 in the
model; where they are on disk travels beside it (:class:`PrintDocument`).

The model follows from the document's events and :class:`PrintFacts` (staff names, time zone,
what each file is) alone: ``archive verify-bundle`` lays a form out again from the replayed
events and the facts the manifest carries, and compares it with the page cell by cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archive import queries
from archive.bootstrap import Archive
from archive.bundle.handling import handling_rows
from archive.bundle.merge import SourceFile
from archive.bundle.print_facts import MISSING, PrintFacts
from archive.kinds.display import line_rows, value_text
from archive.kinds.fieldtypes import Boolean, DecimalNumber, Integer, Lines, Text
from archive.kinds.registry import Kind
from archive.kinds.roles import ROLE_LABELS
from archive.queries.documents import history_of
from archive.queries.volumes import BoundDocument
from archive.scans.readings import scan_readings
from events.document import Document

IMAGE_TYPES = ("image/png", "image/jpeg")
MEDIA_LABELS = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


@dataclass
class PrintDocument:
    """One document ready to render: its model, and the files the model names."""

    kind: str
    number: str
    model: dict[str, Any]
    images: dict[str, str] = field(default_factory=dict)  # SHA-256 -> file URI (for <img>)
    pdf_scans: dict[str, Path] = field(default_factory=dict)  # SHA-256 -> PDF to merge in
    # SHA-256 -> the original file, embedded beside the pages made from it (merge.py)
    sources: dict[str, SourceFile] = field(default_factory=dict)

    def scan_pages(self) -> int:
        """Pages the PDF scans add after the rendered pages."""
        return sum(s["pages"] for s in self.model["scans"] if s["placement"] == "pdf")


class Layout:
    """Builds print models for one archive (staff names read once), or from stated facts."""

    def __init__(self, archive: Archive | None, facts: PrintFacts | None = None) -> None:
        self.archive = archive
        if facts is None:
            if archive is None:
                raise ValueError("a layout needs an archive or print facts")
            facts = PrintFacts(
                archive.settings.tz, queries.staff_names(archive), blobs=archive.blobs
            )
        self.facts = facts
        self.names = facts.names

    @classmethod
    def from_facts(cls, facts: PrintFacts) -> Layout:
        """A layout with nothing but ``facts``: no file is located, none is read."""
        return cls(None, facts)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return f"{moment.astimezone(self.facts.tz):%Y-%m-%d %H:%M}"

    def name(self, username: str) -> str:
        return self.facts.name(username)

    def document(
        self, kind: Kind, doc: Document, events: Sequence[Any] | None = None
    ) -> PrintDocument:
        """``doc``'s print model; ``events`` made it (read from the archive when not given)."""
        printed = PrintDocument(kind.code, doc.number, {})
        signatures = self._signatures(kind, doc, printed)
        shown = {s["image"] for s in signatures if s["image"]}
        attachments, scans = self._scans(doc, shown, printed)
        status = doc.status(list(kind.signers))
        printed.model = {
            "template": kind.print_template,
            "kind": kind.code,
            "kind_label": kind.label,
            "number_label": kind.number_label,
            "number": doc.number,
            "version": doc.version,
            "content_hash": doc.content_hash,
            "status": status,
            "status_label": queries.STATUS_LABELS[status],
            "business_date": str(doc.fields.get("business_date", "")),
            "grid": self._grid(kind, doc),
            "tables": self._tables(kind, doc),
            "events": self._events(doc),
            "signatures": signatures,
            "attachments": attachments,
            "scans": scans,
            "voided": (
                {
                    "reason": doc.voided["reason"],
                    "by": self.name(doc.voided["by"]),
                    "at": self.when(doc.voided["at"]),
                }
                if doc.voided
                else None
            ),
            "history": self._history(kind, doc, events) if doc.amendment_count else [],
        }
        return printed

    # -- fields -----------------------------------------------------------------------------

    def _grid(self, kind: Kind, doc: Document) -> list[dict[str, Any]]:
        """Fields two to a row; long text on a row of its own. Every field, empty or not."""
        rows: list[dict[str, Any]] = []
        pending: list[tuple[str, str]] = []
        for spec in kind.fields:
            if isinstance(spec.type, Lines):
                continue
            cell = (spec.label, value_text(spec.type, doc.fields.get(spec.code), self.names))
            if isinstance(spec.type, Text) and spec.type.multiline:
                rows.append({"wide": True, "cells": [cell]})
                continue
            pending.append(cell)
            if len(pending) == 2:
                rows.append({"wide": False, "cells": pending})
                pending = []
        if pending:
            rows.append({"wide": False, "cells": pending})
        # Keep the short fields together at the top, long text below them.
        return sorted(rows, key=lambda r: r["wide"])

    def _tables(self, kind: Kind, doc: Document) -> list[dict[str, Any]]:
        tables = []
        for spec in kind.fields:
            if not isinstance(spec.type, Lines):
                continue
            value = doc.fields.get(spec.code) or []
            numeric = [isinstance(c.type, (DecimalNumber, Integer)) for c in spec.type.columns]
            # Text columns get three shares of the width, numbers and yes/no one share each.
            # The shares split 80% of the table: with the row number's 7% and the cells'
            # padding that fills it, the last column (auto width, see document.html) included.
            shares = [
                1 if n or isinstance(c.type, Boolean) else 3
                for c, n in zip(spec.type.columns, numeric, strict=True)
            ]
            tables.append(
                {
                    "label": spec.label,
                    "columns": [
                        {"label": c.label, "num": n, "width": round(80 * share / sum(shares), 2)}
                        for c, n, share in zip(spec.type.columns, numeric, shares, strict=True)
                    ],
                    "rows": line_rows(spec, value, self.names),
                }
            )
        return tables

    def _events(self, doc: Document) -> list[tuple[str, str]]:
        return handling_rows(doc, self.name, self.when)

    # -- signatures and scans ---------------------------------------------------------------

    def _signatures(
        self, kind: Kind, doc: Document, printed: PrintDocument
    ) -> list[dict[str, Any]]:
        current = {id(s) for s in doc.current_signatures()}
        rows = []
        for s in doc.signatures:
            image, evidence = self._signature_image(s.image_sha256, printed)
            rows.append(
                {
                    "role": ROLE_LABELS.get(s.role, s.role),
                    "name": s.signer if s.role == "customer" else self.name(s.signer),
                    "at": self.when(s.signed_at),
                    "hash": s.content_hash[:12],
                    "state": "current" if id(s) in current else "stale",
                    "note": "" if id(s) in current else "（签于修改前的内容，已失效）",
                    "image": image,
                    "evidence": evidence,
                }
            )
        for role in doc.missing_roles(list(kind.signers)):
            rows.append(
                {
                    "role": ROLE_LABELS.get(role, role),
                    "name": "未签",
                    "at": "—",
                    "hash": "",
                    "state": "missing",
                    "note": "",
                    "image": None,
                    "evidence": "",
                }
            )
        return rows

    def _signature_image(
        self, sha256: str | None, printed: PrintDocument
    ) -> tuple[str | None, str]:
        """(SHA-256 of a drawable image, or None; words for other evidence)."""
        if not sha256:
            return None, ""
        media = self.facts.file(sha256).media
        if media == MISSING:
            return None, f"签名文件缺失（{sha256[:12]}）"
        if media in IMAGE_TYPES:
            self._locate(sha256, printed.images)
            return sha256, ""
        return None, f"见已签纸质单据扫描件 {sha256[:12]}"

    def _scans(
        self, doc: Document, shown: set[str], printed: PrintDocument
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The attachment list and the scans printed after the document, in the order they
        were attached.

        A customer's signature drawn on the pad is stored as a scan too; it is printed in the
        signature block and left out of both (the manifest lists it by its SHA-256). Every
        other scan is listed, withdrawn ones with the reason.
        """
        attachments, scans = [], []
        for scan in doc.scans:
            if scan.active and self.archive is not None:
                printed.sources[scan.sha256] = SourceFile(
                    scan.sha256,
                    self.archive.blobs.local_path(scan.sha256),
                    scan.media_type,
                    scan.filename,
                    f"{doc.kind} {doc.number} {scan.label or 'scan'}",
                    scan.attached_at,
                )
            if scan.active and scan.sha256 in shown:
                continue
            row = {
                "label": scan.label or "扫描件",
                "filename": scan.filename,
                "media": MEDIA_LABELS.get(scan.media_type, scan.media_type),
                "sha": scan.sha256,
                "by": self.name(scan.attached_by),
                "at": self.when(scan.attached_at),
            }
            attachments.append(row)
            if not scan.active:
                row["where"] = f"已撤回：{scan.withdrawn_reason}"
                continue
            reading = scan_readings(doc).get(scan.sha256)
            placement, pages = self._placement(scan.sha256, scan.media_type, printed, reading)
            position = len(scans) + 1
            scans.append(
                {
                    "position": position,
                    "sha": scan.sha256,
                    "label": row["label"],
                    "filename": scan.filename,
                    "placement": placement,
                    "pages": pages,
                }
            )
            row["where"] = (
                f"后附扫描件 {position}（{pages} 页）"
                if placement == "pdf"
                else f"后附扫描件 {position}"
                if placement == "image"
                else f"后附扫描件 {position}：无法读取"
            )
        return attachments, scans

    def _placement(
        self, sha256: str, media_type: str, printed: PrintDocument, reading: Any = None
    ) -> tuple[str, int]:
        """How a scan goes into the bundle: ``image`` (placed on a page), ``pdf`` (its pages
        merged in: the PDF/A its ``reading`` made, else the original) or ``unreadable``."""
        if reading is not None:
            if self.archive is not None:
                printed.pdf_scans[sha256] = self.archive.blobs.local_path(reading.derived_sha256)
            return "pdf", reading.pages
        if media_type in IMAGE_TYPES:
            self._locate(sha256, printed.images)
            return "image", 1
        pages = self.facts.file(sha256).pages
        if pages == 0:
            return "unreadable", 1
        if self.archive is not None:
            printed.pdf_scans[sha256] = self.archive.blobs.local_path(sha256)
        return "pdf", pages

    def _locate(self, sha256: str, images: dict[str, str]) -> None:
        """The image's file URI for the renderer (none when laying out from facts alone)."""
        if self.archive is not None:
            images[sha256] = self.archive.blobs.local_path(sha256).as_uri()

    # -- history ----------------------------------------------------------------------------

    def _history(
        self, kind: Kind, doc: Document, events: Sequence[Any] | None
    ) -> list[dict[str, Any]]:
        """Every event up to the version printed: who, when, why, what changed."""
        if events is None:
            if self.archive is None:
                raise ValueError("a layout from facts needs the document's events")
            events = list(self.archive.app.stored_events(doc.id))
        made = [e for e in events if e.originator_version <= doc.version]
        entries = []
        for entry in history_of(kind, made, self.names, self.facts.tz):
            if entry["version"] > doc.version:
                break
            changes = []
            if entry["event"] == "Amended":
                for change in entry["changes"]:
                    spec = kind.field(change["field"])
                    before, after = (
                        value_text(spec.type, v, self.names) if spec else str(v)
                        for v in (change["before"], change["after"])
                    )
                    changes.append({"label": change["label"], "before": before, "after": after})
            entries.append(
                {
                    "version": entry["version"],
                    "at": entry["at"][:16].replace("T", " ") if entry["at"] else "—",
                    "label": entry["event_label"],
                    "actor": entry["actor_name"],
                    "reason": entry["reason"] or "",
                    "changes": changes,
                }
            )
        return entries


def print_facts(archive: Archive, documents: Sequence[BoundDocument]) -> dict[str, Any]:
    """The facts (staff names, time zone, files) the forms of ``documents`` are laid out with,
    for the manifest: the checker lays them out again with these."""
    layout = Layout(archive)
    for bound in documents:
        layout.document(bound.kind, bound.doc, bound.events)
    return layout.facts.as_dict()
