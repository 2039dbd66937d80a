"""Documents and their events: every leaf recomputed, every proof checked, every event
decoded (only the archive's own event types) and replayed to what the manifest states."""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from archive.bundle.check.replay import Undecodable, decode, replay
from archive.bundle.check.report import (
    BundleReport,
    Malformed,
    short,
    uuid_of,
)
from archive.bundle.manifest import document_facts, event_id
from archive.integrity.findings import EventName, subject_label
from archive.integrity.notes import Checkpoint
from events.document import Document
from events.volume import MonthVolume
from projections.ledger import Subject, placed_leaf_hash
from projections.merkle import verify_inclusion

A = TypeVar("A", Document, MonthVolume)

# The manifest's two lists of documents, as the Chinese messages name them.
WHERE_LABELS = {"documents": "装订单据", "left_out": "未装入单据"}

FACT_LABELS = {
    "id": "标识",
    "kind": "种类",
    "number": "单号",
    "version": "版本",
    "content_hash": "内容摘要",
    "event_id": "事件编号",
    "voided": "作废状态",
    "scans": "扫描件",
    "signature_images": "签名图片",
    "month": "月份",
    "supplement": "补卷号",
    "label": "卷名",
    "sealed_at": "封存时间",
    "sealed_by": "封存人",
    "seal_event_id": "封存事件",
    "forced_reason": "强制封存原因",
    "open_blockers": "封存时的未完成项",
    "list_hash": "清单摘要",
    "entries": "封存清单",
}


@dataclass(frozen=True)
class ProvedDocument:
    """A manifest document with what replaying its proved events made of it."""

    kind: str
    number: str
    version: int
    content_hash: str
    id: str
    voided: bool
    last_event: EventName | None
    replayed: Document | None
    events: tuple[Any, ...] = ()  # the decoded events that made ``replayed``

    @property
    def key(self) -> tuple[str, int, str]:
        return self.id, self.version, self.content_hash

    @property
    def subject(self) -> Subject:
        return Subject(self.kind, self.number)


def proved_documents(
    entries: Any, where: str, checkpoint: Checkpoint, report: BundleReport
) -> list[ProvedDocument]:
    if not isinstance(entries, list):
        report.add(
            "manifest_malformed",
            f"装订清单中的{WHERE_LABELS.get(where, where)}不是单据列表",
            f"the manifest's {where} is not a list of documents",
        )
        return []
    documents: list[ProvedDocument] = []
    for index, entry in enumerate(entries):
        try:
            documents.append(_document(entry, checkpoint, report))
        except Malformed as error:
            report.add(
                "manifest_malformed",
                f"装订清单中{WHERE_LABELS.get(where, where)}的第 {index + 1} 份格式不对",
                f"document {index + 1} of the manifest's {where} is malformed: {error}",
            )
    return documents


def _document(entry: Any, checkpoint: Checkpoint, report: BundleReport) -> ProvedDocument:
    if not isinstance(entry, dict):
        raise Malformed("not an object")
    kind, number = str(entry.get("kind")), str(entry.get("number"))
    version, stated_hash = entry.get("version"), entry.get("content_hash")
    if not isinstance(version, int) or not isinstance(stated_hash, str):
        raise Malformed("version or content_hash missing")
    subject = Subject(kind, number)
    names, decoded = proved_events(
        Document, uuid_of(entry.get("id")), entry, subject, checkpoint, report
    )
    last = names[-1] if names else None
    replayed = replayed_or_reported(Document, decoded, subject, last, report)
    if replayed is not None:
        compare_facts(document_facts(replayed), entry, "document_mismatch", subject, last, report)
    voided = replayed.voided is not None if replayed is not None else bool(entry.get("voided"))
    made = tuple(decoded) if replayed is not None and decoded is not None else ()
    return ProvedDocument(
        kind, number, version, stated_hash, str(entry.get("id")), voided, last, replayed, made
    )


def proved_events(
    aggregate: type[Document] | type[MonthVolume],
    originator_id: UUID,
    entry: dict[str, Any],
    subject: Subject,
    checkpoint: Checkpoint,
    report: BundleReport,
) -> tuple[list[EventName], list[Any] | None]:
    """Check every event's leaf and proof; the decoded events, or None if any is not usable."""
    events = entry.get("events")
    if not isinstance(events, list) or not events:
        raise Malformed("no list of events")
    names, decoded, usable = [], [], True
    for expected, event in enumerate(events, start=1):
        name, one = _event(aggregate, originator_id, event, subject, checkpoint, report)
        names.append(name)
        if name.version != expected and usable:
            report.add(
                "events_incomplete",
                f"{subject_label(subject)}的事件不连续："
                f"第 {expected} 个事件标为第 {name.version} 版",
                f"{subject.kind} {subject.number}: event {expected} is marked version "
                f"{name.version}",
                name,
            )
            usable = False
        usable = usable and one is not None
        decoded.append(one)
    return names, decoded if usable else None


def _event(
    aggregate: type[Document] | type[MonthVolume],
    originator_id: UUID,
    event: Any,
    subject: Subject,
    checkpoint: Checkpoint,
    report: BundleReport,
) -> tuple[EventName, Any | None]:
    """Check one event's leaf and proof; return its name and the decoded event (None if not)."""
    if not isinstance(event, dict):
        raise Malformed("an event is not an object")
    try:
        version = int(event["version"])
        notification_id = int(event["notification_id"])
        topic = str(event["topic"])
        state = (
            event["state"].encode()
            if "state" in event
            else base64.b64decode(event["state_base64"], validate=True)
        )
        leaf_index = int(event["leaf_index"])
        stated_leaf = base64.b64decode(event["leaf_hash"], validate=True)
        path = [base64.b64decode(h, validate=True) for h in event["inclusion_proof"]]
        leaf = placed_leaf_hash(notification_id, StoredEvent(originator_id, version, topic, state))
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error, struct.error) as e:
        raise Malformed(f"event field {e}") from None
    report.events += 1
    name = EventName(
        notification_id, str(originator_id), version, topic.rpartition(":")[2], subject
    )
    if event.get("event_id") != event_id(originator_id, version):
        report.add(
            "event_id_mismatch",
            f"{name.zh}的事件编号标为 {event.get('event_id')!r}，"
            f"应为 {event_id(originator_id, version)}",
            f"{name.en} is labelled {event.get('event_id')!r}, "
            f"not {event_id(originator_id, version)}",
            name,
        )
    if leaf != stated_leaf:
        report.add(
            "leaf_hash_mismatch",
            f"{name.zh}的内容与装订清单所列的叶哈希不符",
            f"{name.en}: its bytes do not hash to the manifest's leaf hash",
            name,
        )
    size, root = checkpoint.body.size, checkpoint.body.root
    if not verify_inclusion(leaf_index, size, leaf, path, root):
        report.add(
            "inclusion_proof_invalid",
            f"{name.zh}无法证明包含在检查点（{size} 个事件）中",
            f"{name.en} is not proved to be in the checkpoint of {size} events",
            name,
        )
    try:
        decoded = decode(aggregate, originator_id, version, topic, state)
        described = (type(decoded).__name__, decoded.timestamp.isoformat())
    except (Undecodable, AttributeError) as error:
        report.add(
            "event_undecodable",
            f"{name.zh}无法解读（不是本系统的事件，或内容已损坏）",
            f"{name.en} cannot be decoded: {error}",
            name,
        )
        return name, None
    if (event.get("type"), event.get("timestamp")) != described:
        report.add(
            "event_description_mismatch",
            f"{name.zh}在装订清单中的类型或时间与事件本身不符",
            f"{name.en}: the manifest's type or time differs from the event's",
            name,
        )
    return name, decoded


def replayed_or_reported(
    aggregate: type[A],
    decoded: list[Any] | None,
    subject: Subject,
    last: EventName | None,
    report: BundleReport,
) -> A | None:
    """What the decoded events make (None, reported, if they do not replay)."""
    if decoded is None:
        return None
    try:
        return replay(aggregate, decoded)
    except Undecodable as error:
        report.add(
            "event_undecodable",
            f"{subject_label(subject)}的事件无法依次重放，不能构成这份单据",
            f"{subject.kind} {subject.number}: its events do not replay: {error}",
            last,
        )
        return None


def compare_facts(
    facts: dict[str, Any],
    stated: dict[str, Any],
    code: str,
    subject: Subject,
    event: EventName | None,
    report: BundleReport,
) -> None:
    """Report the facts the manifest states otherwise than the replayed events make them."""
    wrong = [k for k in facts if facts[k] != stated.get(k)]
    if not wrong:
        return
    shown_en = "; ".join(
        f"{k}: manifest {short(stated.get(k))}, events {short(facts[k])}" for k in wrong
    )
    report.add(
        code,
        f"{subject_label(subject)}在装订清单中的{'、'.join(FACT_LABELS.get(k, k) for k in wrong)}"
        "与其事件重放的结果不符",
        f"{subject.kind} {subject.number}: the manifest differs from its replayed events "
        f"({shown_en})",
        event,
    )
