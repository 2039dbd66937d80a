"""The manifest attached to the PDF, the signed checkpoint it carries, and its fields.

Every field is vouched for: the manifest lies inside the bytes the PDF signature covers, and
what the signature cannot tell is checked against what it can — the dealer is the signing
certificate's organisation, the leaf format is the one this code computes leaves by, the
origin, tree size and root are the signed checkpoint's. A field the format does not have is
refused (``manifest_unknown_field``): nothing would check it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pypdf import PdfReader

from archive.bundle.check.report import BundleReport
from archive.bundle.check.signature import SignedFile
from archive.bundle.manifest import (
    DOCUMENT_FIELDS,
    EVENT_FIELDS,
    FORMAT,
    MANIFEST_FIELDS,
    MANIFEST_NAME,
    PROOF_FIELDS,
    VOLUME_FIELDS,
)
from archive.integrity.keys import VerifierKey
from archive.integrity.notes import BadNote, Checkpoint, parse_checkpoint
from archive.integrity.proofs import LEAF_FORMAT

SHOWN_FIELDS = 5  # unknown fields named in one message


def read_manifest(reader: PdfReader, report: BundleReport) -> dict[str, Any] | None:
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
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
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
            f"装订清单格式为 {found!r}，不是 {FORMAT}（较早生成的文件不带证明，请重新生成）",
            f"the manifest's format is {found!r}, not {FORMAT} "
            "(files made before proofs were added carry none; generate it again)",
        )
        return None
    return manifest


def read_checkpoint(
    manifest: dict[str, Any], given: VerifierKey | None, report: BundleReport
) -> Checkpoint | None:
    proof = manifest.get("proof")
    if not isinstance(proof, dict):
        report.add("proof_missing", "装订清单中没有证明", "the manifest carries no proof")
        return None
    try:
        checkpoint = parse_checkpoint(str(proof.get("checkpoint")))
    except BadNote as error:
        report.add(
            "checkpoint_unreadable",
            f"装订清单中的检查点无法读取：{error}",
            f"the manifest's checkpoint cannot be read: {error}",
        )
        return None
    body = checkpoint.body
    report.origin, report.tree_size = body.origin, body.size
    report.root = base64.b64encode(body.root).decode()
    stated = (proof.get("origin"), proof.get("tree_size"), proof.get("root"))
    if stated != (body.origin, body.size, report.root):
        report.add(
            "checkpoint_mismatch",
            "装订清单标注的日志名、树大小或根哈希与签名检查点不一致",
            "the manifest's stated origin, tree size or root differs from its signed checkpoint",
        )
    try:
        embedded: VerifierKey | None = VerifierKey.parse(str(proof.get("public_key")))
    except ValueError as error:
        embedded = None
        report.add(
            "key_unreadable",
            f"装订清单中的公钥无法读取：{error}",
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


def embedded_key(manifest: dict[str, Any] | None) -> VerifierKey | None:
    """The public key the manifest carries, if it reads as one (reported by read_checkpoint)."""
    proof = manifest.get("proof") if manifest is not None else None
    try:
        return VerifierKey.parse(str(proof.get("public_key"))) if isinstance(proof, dict) else None
    except ValueError:
        return None


def check_fields(manifest: dict[str, Any], signed: SignedFile | None, report: BundleReport) -> None:
    """The fields no replay checks: the dealer, the leaf format, and fields the format lacks."""
    dealer = manifest.get("dealer")
    if signed is not None and signed.dealer != dealer:
        report.add(
            "manifest_dealer_mismatch",
            f"装订清单中的经销商“{dealer}”与 PDF 签名证书上的“{signed.dealer}”不同",
            f"the manifest's dealer {dealer!r} is not the signing certificate's {signed.dealer!r}",
        )
    proof = manifest.get("proof")
    if isinstance(proof, dict) and proof.get("leaf_format") != LEAF_FORMAT:
        report.add(
            "manifest_leaf_format",
            f"装订清单声明的叶子格式 {proof.get('leaf_format')!r} 不是本系统计算叶子哈希的格式",
            f"the manifest's leaf format {proof.get('leaf_format')!r} is not {LEAF_FORMAT!r}, "
            "the one leaves are computed by",
        )
    unknown = _unknown_fields(manifest)
    if unknown:
        shown = "、".join(unknown[:SHOWN_FIELDS]) + ("……" if len(unknown) > SHOWN_FIELDS else "")
        report.add(
            "manifest_unknown_field",
            f"装订清单中有本格式没有的字段：{shown}（无人核对，不予认可）",
            f"the manifest has fields its format lacks, which nothing checks: {shown}",
        )


def _unknown_fields(manifest: dict[str, Any]) -> list[str]:
    """Paths of the fields outside the format (``documents[2].note``)."""
    unknown = _outside(manifest, MANIFEST_FIELDS, "")
    if isinstance(manifest.get("proof"), dict):
        unknown += _outside(manifest["proof"], PROOF_FIELDS, "proof.")
    entries: list[tuple[str, Any, frozenset[str]]] = [
        ("volume", manifest.get("volume"), VOLUME_FIELDS)
    ]
    for part in ("documents", "left_out"):
        listed = manifest.get(part)
        if isinstance(listed, list):
            entries += [(f"{part}[{i}]", e, DOCUMENT_FIELDS) for i, e in enumerate(listed)]
    for path, entry, fields in entries:
        if not isinstance(entry, dict):
            continue
        unknown += _outside(entry, fields, f"{path}.")
        events = entry.get("events")
        for i, event in enumerate(events if isinstance(events, list) else []):
            if isinstance(event, dict):
                unknown += _outside(event, EVENT_FIELDS, f"{path}.events[{i}].")
    return unknown


def _outside(entry: dict[str, Any], fields: frozenset[str], prefix: str) -> list[str]:
    return [prefix + str(k) for k in entry if k not in fields]
