"""The manifest attached to the PDF, and the signed checkpoint it carries."""

from __future__ import annotations

import base64
import json
from typing import Any

from pypdf import PdfReader

from archive.bundle.check.report import BundleReport
from archive.bundle.manifest import FORMAT, MANIFEST_NAME
from archive.integrity.keys import VerifierKey
from archive.integrity.notes import BadNote, Checkpoint, parse_checkpoint


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
    if (proof.get("tree_size"), proof.get("root")) != (body.size, report.root):
        report.add(
            "checkpoint_mismatch",
            "装订清单标注的树大小或根哈希与签名检查点不一致",
            "the manifest's stated tree size or root differs from its signed checkpoint",
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
