"""``archive verify-bundle``: check a bundle PDF with nothing but the PDF (and, better, the key).

The chain an auditor needs, link by link:

1. the checkpoint in the manifest is signed by the archive's key (the one given with ``--key``,
   else the one the bundle carries, which proves only that the file is self-consistent);
2. every event's leaf hash is recomputed from the stored bytes the manifest carries, and its
   inclusion proof leads from that leaf to the checkpoint's root;
3. replaying each document's events (versions 1 to the bound one) gives the kind, number,
   version and content hash the manifest states, and the volume's seal event lists them;
4. every form printed in the PDF shows that content hash (its first 12 digits), and no form is
   printed that the manifest does not hold.

Every failed link is a :class:`~archive.integrity.findings.Finding` naming the document and event
concerned. Nothing is read from any database: the events are decoded by an in-memory application
with the archive's transcodings.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from archive.bundle.manifest import FORMAT, MANIFEST_NAME, event_id
from archive.bundle.printed import PRINTED_HASH_DIGITS, printed_heads
from archive.integrity.findings import EventName, Finding
from archive.integrity.keys import VerifierKey
from archive.integrity.notes import BadNote, Checkpoint, parse_checkpoint
from archive.kinds.registry import KINDS
from events.application import ArchiveApplication
from events.volume import list_hash
from projections.ledger import Subject, event_leaf_hash
from projections.merkle import verify_inclusion


@dataclass
class BundleReport:
    """What ``verify-bundle`` found; ``intact`` only when every link held."""

    findings: list[Finding] = field(default_factory=list)
    key_source: str | None = None  # "given" (--key) or "embedded"
    origin: str | None = None
    tree_size: int | None = None
    root: str | None = None
    documents: int = 0
    events: int = 0
    pages: int = 0
    printed: int = 0
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.findings

    def add(self, code: str, zh: str, en: str, event: EventName | None = None) -> None:
        self.findings.append(Finding(code, zh, en, event=event))

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "key_source": self.key_source,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root": self.root,
            "documents": self.documents,
            "events": self.events,
            "pages": self.pages,
            "printed_forms": self.printed,
            "seconds": round(self.seconds, 3),
            "findings": [f.as_dict() for f in self.findings],
        }


class _Malformed(Exception):
    """A manifest entry that is not shaped as the format says."""


def check_bundle(pdf: bytes, key: VerifierKey | None = None) -> BundleReport:
    """Check one bundle; ``key`` is the archive's public key when the auditor has it."""
    started = time.perf_counter()
    report = BundleReport(key_source="given" if key else "embedded")
    try:
        reader = PdfReader(io.BytesIO(pdf))
        report.pages = len(reader.pages)
        manifest = _manifest(reader, report)
    except (PdfReadError, ValueError, OSError) as error:
        report.add("not_a_pdf", f"无法读取该 PDF：{error}", f"cannot read the PDF: {error}")
        return report
    if manifest is not None:
        checkpoint = _checkpoint(manifest, key, report)
        if checkpoint is not None:
            documents = _documents(manifest, checkpoint, report)
            _volume(manifest, documents, checkpoint, report)
            _printed(reader, documents, report)
    report.seconds = time.perf_counter() - started
    return report


# -- the manifest and its checkpoint -------------------------------------------------------


def _manifest(reader: PdfReader, report: BundleReport) -> dict[str, Any] | None:
    copies = reader.attachments.get(MANIFEST_NAME, [])
    if len(copies) != 1:
        report.add(
            "manifest_missing" if not copies else "manifest_ambiguous",
            f"PDF 中应有且只有一份 {MANIFEST_NAME}，实有 {len(copies)} 份",
            f"the PDF should hold exactly one {MANIFEST_NAME}; it holds {len(copies)}",
        )
        return None
    try:
        manifest = json.loads(copies[0])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        report.add(
            "manifest_unreadable",
            f"{MANIFEST_NAME} 不是有效的 JSON：{error}",
            f"{MANIFEST_NAME} is not valid JSON: {error}",
        )
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        report.add(
            "manifest_format",
            f"清单格式为 {found!r}，不是 {FORMAT}（较早生成的文件不带证明，请重新生成）",
            f"the manifest's format is {found!r}, not {FORMAT} "
            "(files made before proofs were added carry none; generate it again)",
        )
        return None
    return manifest


def _checkpoint(
    manifest: dict[str, Any], given: VerifierKey | None, report: BundleReport
) -> Checkpoint | None:
    proof = manifest.get("proof")
    if not isinstance(proof, dict):
        report.add("proof_missing", "清单中没有证明", "the manifest carries no proof")
        return None
    try:
        checkpoint = parse_checkpoint(str(proof.get("checkpoint")))
    except BadNote as error:
        report.add(
            "checkpoint_unreadable",
            f"清单中的检查点无法读取：{error}",
            f"the manifest's checkpoint cannot be read: {error}",
        )
        return None
    body = checkpoint.body
    report.origin, report.tree_size = body.origin, body.size
    report.root = base64.b64encode(body.root).decode()
    if (proof.get("tree_size"), proof.get("root")) != (body.size, report.root):
        report.add(
            "checkpoint_mismatch",
            "清单标注的树大小或根哈希与签名检查点不一致",
            "the manifest's stated tree size or root differs from its signed checkpoint",
        )
    try:
        embedded: VerifierKey | None = VerifierKey.parse(str(proof.get("public_key")))
    except ValueError as error:
        embedded = None
        report.add(
            "key_unreadable",
            f"清单中的公钥无法读取：{error}",
            f"the manifest's public key cannot be read: {error}",
        )
    if given is not None and embedded is not None and embedded != given:
        report.add(
            "key_mismatch",
            f"文件自带的公钥 {embedded.text()} 不是指定的公钥 {given.text()}："
            "文件可能被另一把密钥重签",
            f"the bundle carries key {embedded.text()}, not the given key {given.text()}: "
            "it may have been re-signed with another key",
        )
    key = given or embedded
    if key is not None and not checkpoint.signed_by(key):
        report.add(
            "checkpoint_signature",
            f"检查点没有公钥 {key.name} 的有效签名",
            f"the checkpoint carries no valid signature of key {key.name}",
        )
    return checkpoint


# -- documents: leaves, proofs, replay -----------------------------------------------------


@dataclass(frozen=True)
class _Document:
    """A manifest document as replayed from its proved events."""

    kind: str
    number: str
    version: int
    content_hash: str
    id: str
    last_event: EventName | None


def _documents(
    manifest: dict[str, Any], checkpoint: Checkpoint, report: BundleReport
) -> list[_Document]:
    documents: list[_Document] = []
    entries = manifest.get("documents")
    if not isinstance(entries, list):
        report.add(
            "manifest_malformed",
            "清单中没有单据列表",
            "the manifest has no list of documents",
        )
        return documents
    for index, entry in enumerate(entries):
        try:
            documents.append(_document(entry, checkpoint, report))
        except _Malformed as error:
            report.add(
                "manifest_malformed",
                f"清单第 {index + 1} 份单据的格式不对：{error}",
                f"document {index + 1} of the manifest is malformed: {error}",
            )
    report.documents = len(documents)
    return documents


def _document(entry: Any, checkpoint: Checkpoint, report: BundleReport) -> _Document:
    if not isinstance(entry, dict):
        raise _Malformed("not an object")
    kind, number = str(entry.get("kind")), str(entry.get("number"))
    version, stated_hash = entry.get("version"), entry.get("content_hash")
    doc_id = _uuid(entry.get("id"))
    subject = Subject(kind, number)
    events = _list(entry.get("events"))
    if not events:
        raise _Malformed(f"{kind} {number} lists no events")
    replayed: Any = None
    last: EventName | None = None
    for expected, event in enumerate(events, start=1):
        name, decoded = _event(doc_id, event, subject, checkpoint, report)
        last = name
        if name.version != expected:
            report.add(
                "events_incomplete",
                f"{_label(subject)}的事件不连续：第 {expected} 个事件标为第 {name.version} 版",
                f"{kind} {number}: event {expected} is marked version {name.version}",
                name,
            )
            decoded = None
        if decoded is None:
            replayed = None
            break
        replayed = decoded.mutate(replayed)
    if replayed is not None:
        computed = {
            "kind": replayed.kind,
            "number": replayed.number,
            "version": replayed.version,
            "content_hash": replayed.content_hash,
            "voided": replayed.voided is not None,
        }
        stated = {k: entry.get(k) for k in computed}
        wrong = [k for k in computed if computed[k] != stated[k]]
        if wrong:
            shown = "；".join(f"{k}: 清单 {stated[k]!r}，事件 {computed[k]!r}" for k in wrong)
            report.add(
                "document_mismatch",
                f"{_label(subject)}的清单与其事件重放的结果不符（{shown}）",
                f"{kind} {number}: the manifest differs from its replayed events ("
                + "; ".join(f"{k}: manifest {stated[k]!r}, events {computed[k]!r}" for k in wrong)
                + ")",
                last,
            )
    if not isinstance(version, int) or not isinstance(stated_hash, str):
        raise _Malformed("version or content_hash missing")
    return _Document(kind, number, version, stated_hash, str(doc_id), last)


def _event(
    originator_id: UUID,
    event: Any,
    subject: Subject | None,
    checkpoint: Checkpoint,
    report: BundleReport,
) -> tuple[EventName, Any | None]:
    """Check one event's leaf and proof; return its name and the decoded event (None if not)."""
    if not isinstance(event, dict):
        raise _Malformed("an event is not an object")
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
        path = [base64.b64decode(h, validate=True) for h in _list(event["inclusion_proof"])]
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as error:
        raise _Malformed(f"event field {error}") from None
    report.events += 1
    name = EventName(
        notification_id, str(originator_id), version, topic.rpartition(":")[2], subject
    )
    if event.get("event_id") != event_id(originator_id, version):
        report.add(
            "event_id_mismatch",
            f"{name.zh}的事件编号标为 {event.get('event_id')!r}",
            f"{name.en} is labelled {event.get('event_id')!r}",
            name,
        )
    leaf = event_leaf_hash(
        Notification(
            id=notification_id,
            originator_id=originator_id,
            originator_version=version,
            topic=topic,
            state=state,
        )
    )
    if leaf != stated_leaf:
        report.add(
            "leaf_hash_mismatch",
            f"{name.zh}的内容与清单所列的叶哈希不符",
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
        decoded = _decoder().to_domain_event(StoredEvent(originator_id, version, topic, state))
    except Exception as error:  # any failure to decode forged bytes is a finding
        report.add(
            "event_undecodable",
            f"{name.zh}无法解读：{error}",
            f"{name.en} cannot be decoded: {error}",
            name,
        )
        return name, None
    described = (event.get("type"), event.get("timestamp"))
    if described != (type(decoded).__name__, decoded.timestamp.isoformat()):
        report.add(
            "event_description_mismatch",
            f"{name.zh}在清单中的类型或时间与事件本身不符",
            f"{name.en}: the manifest's type or time differs from the event's",
            name,
        )
    return name, decoded


# -- the volume ----------------------------------------------------------------------------


def _volume(
    manifest: dict[str, Any],
    documents: list[_Document],
    checkpoint: Checkpoint,
    report: BundleReport,
) -> None:
    volume = manifest.get("volume")
    if volume is None:
        return
    try:
        if not isinstance(volume, dict):
            raise _Malformed("not an object")
        volume_id = _uuid(volume.get("id"))
        label = Subject("volume", str(volume.get("label")))
        (seal,) = _list(volume.get("events"))
        name, decoded = _event(volume_id, seal, label, checkpoint, report)
    except (_Malformed, ValueError) as error:
        report.add(
            "manifest_malformed",
            f"清单中的卷信息格式不对：{error}",
            f"the manifest's volume is malformed: {error}",
        )
        return
    if decoded is None:
        return
    sealed = decoded.mutate(None)
    entries = volume.get("entries")
    if (
        entries != sealed.entries
        or volume.get("list_hash") != sealed.list_hash
        or list_hash(sealed.entries) != sealed.list_hash
        or (volume.get("month"), volume.get("supplement")) != (sealed.month, sealed.supplement)
    ):
        report.add(
            "volume_mismatch",
            f"清单中的卷 {label.number} 与其封存事件不符",
            f"volume {label.number} in the manifest differs from its seal event",
            name,
        )
    listed = {(e.get("id"), e.get("version"), e.get("content_hash")) for e in sealed.entries}
    for doc in documents:
        if (doc.id, doc.version, doc.content_hash) not in listed:
            report.add(
                "not_in_volume",
                f"{_label(Subject(doc.kind, doc.number))}第 {doc.version} 版不在该卷的封存清单中",
                f"{doc.kind} {doc.number} version {doc.version} is not in the volume as sealed",
                doc.last_event,
            )


# -- the printed pages ---------------------------------------------------------------------


def _printed(reader: PdfReader, documents: list[_Document], report: BundleReport) -> None:
    heads = printed_heads(reader)
    report.printed = len(heads)
    printed: dict[tuple[str, str], list[Any]] = {}
    for head in heads:
        printed.setdefault((head.kind, head.number), []).append(head)
    for doc in documents:
        subject = Subject(doc.kind, doc.number)
        found = printed.pop((doc.kind, doc.number), [])
        if not found:
            report.add(
                "not_printed",
                f"{_label(subject)}在清单中，但 PDF 中找不到它的表头与内容摘要",
                f"{doc.kind} {doc.number} is in the manifest but no printed form of it was found",
                doc.last_event,
            )
        expected = (doc.version, doc.content_hash[:PRINTED_HASH_DIGITS])
        for head in found:
            if (head.version, head.content_hash) != expected:
                report.add(
                    "printed_hash_mismatch",
                    f"{_label(subject)}第 {head.page} 页印的是第 {head.version} 版、内容摘要 "
                    f"{head.content_hash}，清单为第 {expected[0]} 版、{expected[1]}",
                    f"{doc.kind} {doc.number} on page {head.page} shows version {head.version}, "
                    f"hash {head.content_hash}; the manifest has version {expected[0]}, "
                    f"{expected[1]}",
                    doc.last_event,
                )
    for heads_left in printed.values():
        for head in heads_left:
            subject = Subject(head.kind, head.number)
            report.add(
                "printed_not_in_manifest",
                f"第 {head.page} 页印有{_label(subject)}，但清单中没有它",
                f"page {head.page} shows {head.kind} {head.number}, which the manifest lacks",
            )


# -- helpers -------------------------------------------------------------------------------


@functools.cache
def _decoder() -> Any:
    """The archive's event mapper, in memory: it decodes, it never touches a database."""
    return ArchiveApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


def _label(subject: Subject) -> str:
    kind = KINDS.get(subject.kind)
    return f"{kind.label if kind else subject.kind} {subject.number} "


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(f"expected a list, found {type(value).__name__}")
    return value


def _uuid(value: Any) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise _Malformed(f"{value!r} is not an id") from None
