"""Bundles carry their proof, and ``verify-bundle`` checks it from the PDF alone.

A small demo October is sealed (which signs a checkpoint) and its return binding made once.
Tampered copies are made by rewriting ``manifest.json`` inside the PDF
(:func:`tests.support.edit_manifest`); each must be refused with the document and event named.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.bundle.check import check_bundle
from archive.bundle.pipeline import bundle_volume, print_document
from archive.cli.integrity import register
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.integrity import list_checkpoints, load_verifier, make_checkpoint
from archive.integrity.keys import SignerKey, VerifierKey
from archive.integrity.notes import parse_checkpoint, sign_checkpoint
from archive.integrity.proofs import ProofUnavailable
from projections.ledger import event_leaf_hash
from projections.merkle import verify_inclusion
from tests.support import FakeClock, edit_manifest, register_team, work_order

MONTH = "2026-10"


def demo_order(number: str) -> dict[str, Any]:
    """A work order by the demo's own advisor and technician."""
    return work_order(number, service_advisor="刘洋", technicians="周强")


@dataclass
class Bound:
    archive: Archive
    home: Path
    pdf: bytes
    manifest: dict[str, Any]
    key: VerifierKey
    starts: dict[str, int]  # document number: the page its form starts on (1-based)
    voided_claim: str


def _claims(archive: Archive) -> list[Any]:
    return [
        archive.app.repository.get(n.originator_id)
        for n in archive.app.recorder.select_notifications(0, 100_000, inclusive_of_start=False)
        if n.topic.endswith("Document.Filed")
        and archive.app.repository.get(n.originator_id).kind == "warranty_claim"
    ]


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bound]:
    home = tmp_path_factory.mktemp("proof") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    load(archive, generate(DemoSpec(month=MONTH, work_orders=20)))
    claims = sorted(d.number for d in _claims(archive))
    commands.void_document(archive, "warranty_claim", claims[-1], "重复录入", "ma.zhiqiang")
    commands.seal_month(archive, MONTH, "ma.zhiqiang", force_reason="测试：强制封存")
    bundle = bundle_volume(archive, MONTH, "return")
    key = load_verifier(archive.settings)
    assert key is not None
    starts = {entry.number: entry.page for entry in bundle.contents}
    try:
        yield Bound(archive, home, bundle.pdf, bundle.manifest, key, starts, claims[-1])
    finally:
        archive.close()


def codes(pdf: bytes, key: VerifierKey | None = None) -> dict[str, list[dict[str, Any]]]:
    """The findings by code, less the PDF signature's: every file edit_manifest rewrites breaks
    it, and a swapped key no longer vouches for it (tests/test_pdf_signature.py checks both);
    these tests are about what else is found."""
    report = check_bundle(pdf, key)
    assert not report.intact
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in report.findings:
        found.setdefault(finding.code, []).append(finding.as_dict())
    for code in ("signature_invalid", "signature_untrusted", "signature_layout"):
        found.pop(code, None)
    return found


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- what the manifest carries ---------------------------------------------------------------


def test_the_manifest_carries_the_seal_checkpoint_key_and_a_proof_per_event(bound: Bound) -> None:
    proof = bound.manifest["proof"]
    seal_checkpoint = list_checkpoints(bound.archive.settings)[0]  # later tests add others
    assert proof["checkpoint"] == seal_checkpoint.path.read_text(encoding="utf-8")
    assert proof["public_key"] == bound.key.text()
    checkpoint = parse_checkpoint(proof["checkpoint"])
    assert checkpoint.signed_by(bound.key)
    size, root = checkpoint.body.size, checkpoint.body.root
    assert size == bound.archive.app.head()  # the seal's checkpoint covers the seal event
    events = [e for d in bound.manifest["documents"] for e in d["events"]]
    events += bound.manifest["volume"]["events"]
    assert bound.manifest["documents"] and len(events) > len(bound.manifest["documents"])
    for event in events:
        leaf = base64.b64decode(event["leaf_hash"])
        path = [base64.b64decode(h) for h in event["inclusion_proof"]]
        assert verify_inclusion(event["leaf_index"], size, leaf, path, root)
        # the leaf is the stored event as the database holds it
        (stored,) = bound.archive.app.recorder.select_notifications(
            start=event["notification_id"], limit=1
        )
        assert stored.state == event["state"].encode()
        assert event_leaf_hash(stored) == leaf
    seal = bound.manifest["volume"]["events"][0]
    assert seal["type"] == "Sealed" and seal["event_id"].endswith("/1")


def test_later_checkpoints_do_not_change_the_bytes(bound: Bound) -> None:
    commands.file_document(bound.archive, "work_order", demo_order("WO-LATER"), "li.na")
    make_checkpoint(bound.archive)
    assert bundle_volume(bound.archive, MONTH, "return").pdf == bound.pdf


def test_a_document_printed_after_its_last_checkpoint_gets_a_new_one(bound: Bound) -> None:
    commands.file_document(bound.archive, "work_order", demo_order("WO-FRESH"), "li.na")
    before = len(list_checkpoints(bound.archive.settings))
    printed = print_document(bound.archive, "work_order", "WO-FRESH")
    assert len(list_checkpoints(bound.archive.settings)) == before + 1
    report = check_bundle(printed.pdf, bound.key)
    assert report.intact, [f.message_en for f in report.findings]
    assert (report.documents, report.printed, report.tree_size) == (1, 1, bound.archive.app.head())
    assert print_document(bound.archive, "work_order", "WO-FRESH").pdf == printed.pdf
    assert len(list_checkpoints(bound.archive.settings)) == before + 1


# -- verify-bundle on an intact file -------------------------------------------------------------


def test_an_intact_bundle_verifies_with_the_archives_key(bound: Bound) -> None:
    report = check_bundle(bound.pdf, bound.key)
    assert report.intact, [f.message_en for f in report.findings]
    assert report.key_source == "given"
    assert report.documents == report.printed == len(bound.manifest["documents"])
    listed = bound.manifest["documents"] + bound.manifest["left_out"]
    assert report.events == sum(len(d["events"]) for d in listed) + 1  # and the seal
    assert (report.binding, report.volume, report.left_out) == ("return", MONTH, 1)


def test_verify_bundle_on_the_command_line(bound: Bound, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARCHIVE_HOME", str(tmp_path / "no-archive-here"))
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    good = tmp_path / "return.pdf"
    good.write_bytes(bound.pdf)
    vkey = bound.archive.settings.layout.keys / "checkpoint.vkey"

    ok = runner.invoke(app, ["verify-bundle", str(good), "--key", str(vkey)])
    assert ok.exit_code == 0, ok.output
    assert "return.pdf（2026-10 退回服务中心卷） 核验通过" in ok.output
    assert "return.pdf verified" in ok.output
    assert "文字说明和人名也逐字比对" in ok.output and "not compared" not in ok.output
    assert "未指定 --key" not in ok.output
    assert not (tmp_path / "no-archive-here").exists()  # nothing but the PDF was opened

    embedded = runner.invoke(app, ["verify-bundle", str(good), "--json"])
    assert embedded.exit_code == 3  # consistent, but nobody said whose key it is
    assert json.loads(embedded.output)["key_source"] == "embedded"
    assert json.loads(embedded.output)["authenticated"] is False
    loose = runner.invoke(app, ["verify-bundle", str(good)])
    assert "内部一致，但未用档案室公钥核对" in loose.output
    assert "未指定 --key" in loose.output and "no --key given" in loose.output

    bad = tmp_path / "tampered.pdf"
    number = bound.manifest["documents"][0]["number"]
    bad.write_bytes(
        edit_manifest(bound.pdf, lambda m: m["documents"][0].update(content_hash="0" * 64))
    )
    refused = runner.invoke(app, ["verify-bundle", str(bad), "--key", vkey.read_text()])
    assert refused.exit_code == 1
    assert "核验未通过" in refused.output and "FAILED verification" in refused.output
    assert number in refused.output
    as_json = json.loads(runner.invoke(app, ["verify-bundle", str(bad), "--json"]).output)
    assert as_json["intact"] is False and as_json["findings"][0]["number"] == number

    wrong_key = runner.invoke(app, ["verify-bundle", str(good), "--key", "not a key"])
    assert wrong_key.exit_code == 2 and "--key 不是有效的公钥" in wrong_key.output
    missing = runner.invoke(app, ["verify-bundle", str(tmp_path / "none.pdf")])
    assert missing.exit_code == 2 and "读不到文件" in missing.output


# -- tampered bundles ----------------------------------------------------------------------------


def test_an_edited_content_hash_is_named(bound: Bound) -> None:
    doc = bound.manifest["documents"][0]
    pdf = edit_manifest(bound.pdf, lambda m: m["documents"][0].update(content_hash="f" * 64))
    found = codes(pdf, bound.key)
    assert set(found) == {
        "document_mismatch",
        "printed_hash_mismatch",
        "not_in_volume",  # the stated version and hash are not the sealed ones
        "missing_from_bundle",  # so the sealed one is not accounted for
    }
    (mismatch,) = found["document_mismatch"]
    assert mismatch["number"] == doc["number"] and mismatch["kind"] == doc["kind"]
    assert mismatch["version"] == doc["version"]
    assert "content_hash" in mismatch["message_en"] and doc["number"] in mismatch["message_zh"]


def test_an_edited_event_is_named_by_its_leaf(bound: Bound) -> None:
    doc = bound.manifest["documents"][0]
    filed = doc["events"][0]

    def forge(manifest: dict[str, Any]) -> None:
        event = manifest["documents"][0]["events"][0]
        state = json.loads(event["state"])
        state["fields"]["mileage_km"] = state["fields"].get("mileage_km", 0) + 1
        event["state"] = json.dumps(state, ensure_ascii=False, separators=(",", ":"))

    found = codes(edit_manifest(bound.pdf, forge), bound.key)
    assert {"leaf_hash_mismatch", "inclusion_proof_invalid"} <= set(found)
    (leaf,) = found["leaf_hash_mismatch"]
    assert (leaf["notification_id"], leaf["version"], leaf["number"]) == (
        filed["notification_id"],
        1,
        doc["number"],
    )
    assert leaf["event"] == "Document.Filed"
    assert f"第 {filed['notification_id']} 号事件" in leaf["message_zh"]


def test_a_forged_event_with_its_leaf_recomputed_fails_its_proof(bound: Bound) -> None:
    """The forger recomputes the leaf hash from the edited bytes: the path no longer leads to
    the signed root."""

    def forge(manifest: dict[str, Any]) -> None:
        # the last event a person caused (a scan's reading by OCR names no actor)
        events = manifest["documents"][0]["events"]
        event = next(e for e in reversed(events) if '"actor":"' in e["state"])
        event["state"] = event["state"].replace('"actor":"', '"actor":"x')
        data = (
            event["notification_id"].to_bytes(8, "big", signed=True)
            + (16).to_bytes(4, "big")
            + bytes.fromhex(manifest["documents"][0]["id"].replace("-", ""))
            + event["version"].to_bytes(8, "big", signed=True)
            + len(event["topic"].encode()).to_bytes(4, "big")
            + event["topic"].encode()
            + len(event["state"].encode()).to_bytes(4, "big")
            + event["state"].encode()
        )
        event["leaf_hash"] = b64(hashlib.sha256(b"\x00" + data).digest())

    found = codes(edit_manifest(bound.pdf, forge), bound.key)
    # and the page, printed from the real event, no longer shows what the forged one says
    assert set(found) - {"printed_cell_mismatch"} == {"inclusion_proof_invalid"}
    (invalid,) = found["inclusion_proof_invalid"]
    assert invalid["number"] == bound.manifest["documents"][0]["number"]


def test_a_document_dropped_from_the_manifest_is_still_found_on_the_page(bound: Bound) -> None:
    dropped = bound.manifest["documents"][-1]
    found = codes(edit_manifest(bound.pdf, lambda m: m["documents"].pop()), bound.key)
    # its scan and signature files, embedded beside its pages, are now in no proved event
    unproved = {"source_file_unknown", "image_unproved"}
    assert (
        set(found) == {"printed_not_in_manifest", "missing_from_bundle", "fees_mismatch"} | unproved
    )
    assert dropped["number"] in found["printed_not_in_manifest"][0]["message_zh"]


def test_an_edited_volume_list_is_refused(bound: Bound) -> None:
    pdf = edit_manifest(bound.pdf, lambda m: m["volume"]["entries"].pop())
    assert set(codes(pdf, bound.key)) == {"volume_mismatch"}


def test_a_replaced_key_is_detected(bound: Bound) -> None:
    """Someone re-signs the checkpoint with a key of their own and puts that key in the file.

    The file is then consistent with itself, so only the archive's real key tells: given with
    ``--key`` it names the substitution; without it the report says which key it relied on."""
    intruder = SignerKey.generate(bound.key.name)
    checkpoint = parse_checkpoint(bound.manifest["proof"]["checkpoint"])

    def resign(manifest: dict[str, Any]) -> None:
        manifest["proof"]["checkpoint"] = sign_checkpoint(checkpoint.body, intruder)
        manifest["proof"]["public_key"] = intruder.verifier().text()

    resigned = edit_manifest(bound.pdf, resign)
    found = codes(resigned, bound.key)
    assert set(found) == {"key_mismatch", "checkpoint_signature"}
    assert intruder.verifier().text() in found["key_mismatch"][0]["message_en"]
    alone = check_bundle(resigned)  # the PDF signature is not redone here: see test_pdf_signature
    # ... and the PDF's certificate was not issued by the key the file now carries.
    assert {f.code for f in alone.findings} == {
        "signature_invalid",
        "signature_untrusted",
        "signature_layout",  # the rewrite moved the signed bytes
    }
    assert not alone.authenticated and alone.key_source == "embedded"

    swapped = edit_manifest(
        bound.pdf, lambda m: m["proof"].update(public_key=intruder.verifier().text())
    )
    assert set(codes(swapped)) == {"checkpoint_signature"}


def test_a_voided_claim_left_out_of_the_return_is_proved_voided(bound: Bound) -> None:
    (left,) = bound.manifest["left_out"]
    assert (left["number"], left["voided"]) == (bound.voided_claim, True)
    types = [e["type"] for e in left["events"]]
    assert "Voided" in types  # then only readings of its scans (OCR at the seal)
    assert set(types[types.index("Voided") + 1 :]) <= {"ScanRead"}

    def unvoid(manifest: dict[str, Any]) -> None:
        events = manifest["left_out"][0]["events"]
        del events[[e["type"] for e in events].index("Voided") :]

    # Claimed "voided" without the Voided event: the replay says otherwise.
    pdf = edit_manifest(bound.pdf, unvoid)
    found = codes(pdf, bound.key)
    assert {"document_mismatch", "binding_mismatch"} <= set(found)
    assert "却被列为未装入" in found["binding_mismatch"][0]["message_zh"]


def test_a_document_cut_from_pages_and_manifest_is_missed(bound: Bound) -> None:
    """The forger removes a claim's form and its manifest entry: the sealed list still has it."""
    doc = bound.manifest["documents"][0]
    page = bound.starts[doc["number"]] - 1

    def cut(manifest: dict[str, Any]) -> None:
        manifest["documents"].pop(0)

    found = codes(edit_manifest(bound.pdf, cut, lambda w: w.remove_page(page)), bound.key)
    assert "missing_from_bundle" in found
    assert doc["number"] in found["missing_from_bundle"][0]["message_zh"]
    if doc["kind"] == "warranty_claim":
        assert "fees_mismatch" in found  # the fee summary still counts it


def test_a_form_printed_twice_is_named(bound: Bound) -> None:
    doc = bound.manifest["documents"][0]
    page = bound.starts[doc["number"]] - 1
    found = codes(
        edit_manifest(bound.pdf, lambda m: None, lambda w: w.insert_page(w.pages[page], page)),
        bound.key,
    )
    assert set(found) == {"printed_twice", "pages_misnumbered"}
    assert doc["number"] in found["printed_twice"][0]["message_zh"]


def test_pages_taken_out_or_added_are_found_by_their_numbers(bound: Bound) -> None:
    """A page without a form head (a scan of the signed slip) removed, or the cover appended."""
    scan_page = bound.starts[bound.manifest["documents"][0]["number"]]  # the page after the form
    removed = codes(edit_manifest(bound.pdf, lambda m: None, lambda w: w.remove_page(scan_page)))
    # the form's pages no longer hold its scans' pages either
    assert set(removed) == {"pages_misnumbered", "printed_pages_mismatch", "scan_missing"}
    added = codes(edit_manifest(bound.pdf, lambda m: None, lambda w: w.add_page(w.pages[0])))
    # the page after the fee summary reads as text added to it
    assert set(added) == {"pages_misnumbered", "fees_mismatch"}
    assert "有页被抽走、添加或调换" in added["pages_misnumbered"][0]["message_zh"]


def test_an_altered_fee_row_is_found(bound: Bound) -> None:
    """The summary sentence kept, one claim's fee row no longer matching its replayed claim."""

    def raise_fee(manifest: dict[str, Any]) -> None:
        claim = manifest["documents"][0]
        filed = claim["events"][0]
        state = json.loads(filed["state"])
        state["fields"]["service_fee"] = "999.00"
        filed["state"] = json.dumps(state, ensure_ascii=False, separators=(",", ":"))

    found = codes(edit_manifest(bound.pdf, raise_fee), bound.key)
    assert "fees_mismatch" in found  # besides the leaf and proof that no longer hold
    assert {"leaf_hash_mismatch", "inclusion_proof_invalid"} <= set(found)


def test_a_document_listed_twice_is_named(bound: Bound) -> None:
    pdf = edit_manifest(bound.pdf, lambda m: m["documents"].append(m["documents"][0]))
    found = codes(pdf, bound.key)
    assert "listed_twice" in found


def test_edited_volume_and_document_facts_are_named(bound: Bound) -> None:
    erased = codes(
        edit_manifest(bound.pdf, lambda m: m["volume"].update(forced_reason=None)), bound.key
    )
    assert set(erased) == {"volume_mismatch"}
    assert "强制封存原因" in erased["volume_mismatch"][0]["message_zh"]
    no_volume = codes(edit_manifest(bound.pdf, lambda m: m.pop("volume")), bound.key)
    assert set(no_volume) == {"volume_missing"}
    scans = codes(edit_manifest(bound.pdf, lambda m: m["documents"][0].update(scans=[])), bound.key)
    assert set(scans) == {"document_mismatch"}
    assert "扫描件" in scans["document_mismatch"][0]["message_zh"]


def test_hostile_manifests_give_findings_not_crashes(bound: Bound) -> None:
    """Shapes and topics a forger might try: each is reported; no module named by the file is
    imported."""

    def seal_as_document(m: dict[str, Any]) -> None:
        m["documents"][0]["events"] = m["volume"]["events"]

    def foreign_topic(m: dict[str, Any]) -> None:
        m["documents"][0]["events"][0]["topic"] = "antigravity:Fly"

    def huge_version(m: dict[str, Any]) -> None:
        m["documents"][0]["events"][0]["version"] = 2**70

    def not_dicts(m: dict[str, Any]) -> None:
        m["documents"][0]["events"] = [1, 2]
        m["left_out"] = "none"

    for edit in (seal_as_document, foreign_topic, huge_version, not_dicts):
        found = codes(edit_manifest(bound.pdf, edit), bound.key)
        assert "check_failed" not in found, (edit.__name__, found)
    assert "antigravity" not in sys.modules
    topic = codes(edit_manifest(bound.pdf, foreign_topic), bound.key)["event_undecodable"]
    assert "is not an event of Document" in topic[0]["message_en"]


def test_files_that_are_not_bundles(bound: Bound) -> None:
    assert set(codes(b"%PDF-1.7 nonsense")) <= {"not_a_pdf", "manifest_missing"}
    assert set(codes(b"hello")) == {"not_a_pdf"}
    old = edit_manifest(bound.pdf, lambda m: m.update(format="dealer-archive/bundle-manifest/1"))
    (finding,) = codes(old)["manifest_format"]
    assert "重新生成" in finding["message_zh"]
    no_proof = edit_manifest(bound.pdf, lambda m: m.pop("proof"))
    assert set(codes(no_proof)) == {"proof_missing"}
    garbled = edit_manifest(bound.pdf, lambda m: m["documents"][0].update(events="?"))
    assert "manifest_malformed" in codes(garbled)


# -- the store and the ledger must agree before anything is proved ---------------------------


def test_a_tampered_store_is_not_bundled(tmp_path: Path) -> None:
    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    try:
        register_team(archive)
        commands.file_document(archive, "work_order", work_order("WO-0001"), "clerk2")
        make_checkpoint(archive)
        conn = sqlite3.connect(archive.settings.layout.events_db, isolation_level=None)
        (rowid, state) = conn.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE '%Document.Filed'"
        ).fetchone()
        conn.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (bytes(state).replace(b"clerk2", b"clerk3"), rowid),
        )
        conn.close()
        with pytest.raises(ProofUnavailable) as refused:
            print_document(archive, "work_order", "WO-0001")
        assert refused.value.code == "store_differs_from_ledger"
        assert "archive verify" in refused.value.message_en
    finally:
        archive.close()


def test_single_documents_are_proved_on_each_store(archive: Archive) -> None:
    register_team(archive)
    commands.file_document(archive, "work_order", work_order("WO-0001"), "clerk2")
    printed = print_document(archive, "work_order", "WO-0001")
    key = load_verifier(archive.settings)
    report = check_bundle(printed.pdf, key)
    assert report.intact, [f.message_en for f in report.findings]
    forged = edit_manifest(printed.pdf, lambda m: m["documents"][0].update(number="WO-9999"))
    assert "document_mismatch" in codes(forged, key)
