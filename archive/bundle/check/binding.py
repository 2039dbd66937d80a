"""The volume's seal and the binding's rule: the bundle holds exactly what the rule takes from
the sealed list, each document once, and proves why each one it leaves out is left out."""

from __future__ import annotations

from typing import Any

from archive.bundle.bindings import BINDING_LABELS, binds, takes_kind
from archive.bundle.check.documents import (
    ProvedDocument,
    compare_facts,
    proved_events,
    replayed_or_reported,
)
from archive.bundle.check.report import BundleReport, Malformed, uuid_of
from archive.bundle.manifest import SINGLE, volume_facts
from archive.integrity.findings import subject_label
from archive.integrity.notes import Checkpoint
from events.volume import MonthVolume, list_hash
from projections.ledger import Subject


def check_what_is_bound(
    manifest: dict[str, Any],
    documents: list[ProvedDocument],
    left: list[ProvedDocument],
    checkpoint: Checkpoint,
    report: BundleReport,
) -> MonthVolume | None:
    """The sealed volume, replayed (None for a single document, or when it does not replay)."""
    binding = report.binding
    if binding == SINGLE:
        if len(documents) != 1 or left:
            listed = len(documents) + len(left)
            report.add(
                "binding_mismatch",
                f"单份打印件应只含一份单据，装订清单却列了 {listed} 份",
                f"a single printed document should hold one document; the manifest lists {listed}",
            )
        return None
    if binding not in BINDING_LABELS:
        report.add(
            "binding_unknown",
            f"装订清单标注的装订方式 {binding!r} 不存在",
            f"the manifest names an unknown binding {binding!r}",
        )
        return None
    sealed = _sealed_volume(manifest.get("volume"), checkpoint, report)
    if sealed is not None:
        _holds_what_the_rule_takes(binding, sealed, documents, left, report)
    return sealed


def _sealed_volume(volume: Any, checkpoint: Checkpoint, report: BundleReport) -> MonthVolume | None:
    """The volume the manifest's seal event makes, after checking what the manifest says of it."""
    if volume is None:
        report.add(
            "volume_missing",
            "装订清单中没有卷信息（封存事件），无法核对是否完整",
            "the manifest of a bound volume lacks the volume (its seal event)",
        )
        return None
    try:
        if not isinstance(volume, dict):
            raise Malformed("not an object")
        subject = Subject("volume", str(volume.get("label")))
        names, decoded = proved_events(
            MonthVolume, uuid_of(volume.get("id")), volume, subject, checkpoint, report
        )
    except Malformed as error:
        report.add(
            "manifest_malformed",
            f"装订清单中的卷信息格式不对：{error}",
            f"the manifest's volume is malformed: {error}",
        )
        return None
    report.volume = subject.number
    sealed = replayed_or_reported(MonthVolume, decoded, subject, names[-1], report)
    if sealed is None:
        return None
    compare_facts(volume_facts(sealed), volume, "volume_mismatch", subject, names[-1], report)
    if list_hash(sealed.entries) != sealed.list_hash:
        report.add(
            "volume_list_hash",
            f"卷 {subject.number} 的封存清单与其清单摘要不符",
            f"volume {subject.number}: the sealed list does not hash to its list hash",
            names[-1],
        )
    return sealed


def _holds_what_the_rule_takes(
    binding: str,
    sealed: MonthVolume,
    documents: list[ProvedDocument],
    left: list[ProvedDocument],
    report: BundleReport,
) -> None:
    entries = {
        (str(e.get("id")), e.get("version"), e.get("content_hash")): e
        for e in sealed.entries
        if isinstance(e, dict)
    }
    seen: set[tuple[str, int, str]] = set()
    for doc, bound in [(d, True) for d in documents] + [(d, False) for d in left]:
        if doc.key in seen:
            report.add(
                "listed_twice",
                f"{subject_label(doc.subject)}在装订清单中出现了不止一次",
                f"{doc.kind} {doc.number} is listed more than once",
                doc.last_event,
            )
        seen.add(doc.key)
        if doc.key not in entries:
            report.add(
                "not_in_volume",
                f"{subject_label(doc.subject)}第 {doc.version} 版"
                f"不在卷 {sealed.label} 的封存清单中",
                f"{doc.kind} {doc.number} version {doc.version} is not in volume "
                f"{sealed.label} as sealed",
                doc.last_event,
            )
        if bound != binds(binding, doc.kind, doc.voided):
            zh = f"不应装入{BINDING_LABELS[binding]}"
            en = "does not belong in"
            if not bound:
                zh = f"应装入{BINDING_LABELS[binding]}，却被列为未装入"
                en = "was left out of"
            report.add(
                "binding_mismatch",
                f"{subject_label(doc.subject)}{zh}",
                f"{doc.kind} {doc.number} {en} the {binding} binding",
                doc.last_event,
            )
    for key, entry in entries.items():
        if key not in seen and takes_kind(binding, str(entry.get("kind"))):
            subject = Subject(str(entry.get("kind")), str(entry.get("number")))
            report.add(
                "missing_from_bundle",
                f"{subject_label(subject)}已封存在卷 {sealed.label} 中，"
                "但本文件既没有装入也没有说明",
                f"{subject.kind} {subject.number} is sealed in volume {sealed.label} but "
                "neither bound nor accounted for in this file",
            )
