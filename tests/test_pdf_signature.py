"""Bundles are signed PDFs: PAdES B-B by a certificate the archive's key issued, validated by
pyHanko's own validator and by poppler (what Evince and Okular show), still PDF/A-3b;
``verify-bundle`` anchors the signature at the archive's key. (That a sealed volume gives the
same bytes when bundled twice, signature included, is tests/test_bundle.py's.)

One small demo October is sealed and its return binding made once for the module.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import ArrayObject, NameObject

from archive import commands, queries
from archive.bootstrap import Archive, open_archive
from archive.bundle.check import check_bundle
from archive.bundle.manifest import (
    DOCUMENT_FIELDS,
    EVENT_FIELDS,
    MANIFEST_FIELDS,
    PROOF_FIELDS,
    VOLUME_FIELDS,
    document_facts,
    event_facts,
    volume_facts,
)
from archive.bundle.pipeline import bundle_volume, print_document
from archive.bundle.signing import SIGNATURE_FIELD, sign_pdf
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.integrity import load_verifier
from archive.integrity.certificate import (
    NOT_AFTER,
    archive_certificates,
    first_event_time,
    is_archive_root,
    make_certificates,
    organisation,
)
from archive.integrity.key_label import KeyLabel
from archive.integrity.keys import SignerKey, VerifierKey, load_signer
from archive.integrity.notes import parse_checkpoint, sign_checkpoint
from archive.queries.volumes import get_volume
from events.volume import MonthVolume
from tests.support import FakeClock, edit_manifest, pdf_bytes, work_order

MONTH = "2026-10"


@dataclass
class Signed:
    archive: Archive
    volume: MonthVolume
    pdf: bytes
    manifest: dict[str, Any]
    key: VerifierKey


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    home = tmp_path_factory.mktemp("pdfsig") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    load(archive, generate(DemoSpec(month=MONTH, work_orders=8)))
    commands.seal_month(archive, MONTH, "ma.zhiqiang", force_reason="测试：强制封存")
    bundle = bundle_volume(archive, MONTH, "return")
    key = load_verifier(archive.settings)
    assert key is not None
    try:
        yield Signed(archive, get_volume(archive, MONTH, 0), bundle.pdf, bundle.manifest, key)
    finally:
        archive.close()


def codes(pdf: bytes, key: VerifierKey | None) -> set[str]:
    return {f.code for f in check_bundle(pdf, key).findings}


def unsigned(pdf: bytes, change: Callable[[PdfWriter], None] | None = None) -> bytes:
    """The file as it was before signing (the field and its widget taken out), changed."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    del writer.root_object["/AcroForm"]
    for page in writer.pages:
        kept = [a for a in page.get("/Annots", []) if a.get_object().get("/FT") != "/Sig"]
        if "/Annots" in page:
            page[NameObject("/Annots")] = ArrayObject(kept)
    if change is not None:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- the signature ------------------------------------------------------------------------------


def test_pyhankos_validator_accepts_it_anchored_at_the_archives_key(signed: Signed) -> None:
    root = archive_certificates(signed.archive).root
    assert is_archive_root(root, signed.key)
    (signature,) = PdfFileReader(io.BytesIO(signed.pdf)).embedded_signatures
    anchor = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    trust = ValidationContext(trust_roots=[anchor], allow_fetching=False)
    status = validate_pdf_signature(signature, trust)
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.field_name == SIGNATURE_FIELD
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert status.signer_reported_dt == signed.volume.sealed_at
    assert status.md_algorithm == "sha256" and status.pkcs7_signature_mechanism == "sha256_ecdsa"
    dealer = signed.archive.settings.dealer_name
    assert status.signing_cert.subject.native["organization_name"] == dealer

    report = check_bundle(signed.pdf, signed.key)
    assert report.intact and report.authenticated, [f.message_en for f in report.findings]
    assert (report.signed_by, report.signed_at) == (dealer, signed.volume.sealed_at)
    assert report.as_dict()["signed_by"] == dealer


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils' pdfsig not installed")
def test_poppler_shows_who_signed_and_that_it_is_valid(signed: Signed, tmp_path: Path) -> None:
    path = tmp_path / "return.pdf"
    path.write_bytes(signed.pdf)
    shown = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True)
    assert f"Common Name: {signed.archive.settings.dealer_name}" in shown.stdout
    assert "Signature Validation: Signature is Valid." in shown.stdout
    assert "Total document signed" in shown.stdout


def test_the_signed_file_is_still_pdf_a_3b(signed: Signed) -> None:
    assert signed.pdf.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(signed.pdf))
    root = reader.trailer["/Root"]
    assert "/Version" not in root  # pyHanko's ISO 32002 extension would make it PDF 2.0
    assert set(root["/Extensions"]) == {"/ESIC"}
    assert {"/OutputIntents", "/Metadata", "/AF"} <= set(root)
    xmp = root["/Metadata"].get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    producer = re.search(r'pdf:Producer="([^"]+)"', xmp)
    assert producer is not None and reader.metadata["/Producer"] == producer.group(1)
    sealed = signed.volume.sealed_at.astimezone(signed.archive.settings.tz)
    assert f"<xmp:ModifyDate>{sealed.isoformat()}</xmp:ModifyDate>" in xmp
    (widget,) = [a.get_object() for a in reader.pages[0]["/Annots"]]
    assert widget["/F"] & 4 and not widget["/F"] & (1 | 2 | 32)  # printed, never hidden
    assert [float(n) for n in widget["/Rect"]] == [0, 0, 0, 0] and "/AP" not in widget


def test_a_printed_document_is_signed_at_its_versions_time(signed: Signed) -> None:
    entry = signed.manifest["documents"][0]
    printed = print_document(signed.archive, entry["kind"], entry["number"])
    report = check_bundle(printed.pdf, signed.key)
    assert report.intact, [f.message_en for f in report.findings]
    _, doc = queries.get_document(signed.archive, entry["kind"], entry["number"])
    assert report.signed_at == doc.modified_on


# -- the certificates ---------------------------------------------------------------------------


def test_the_certificates_the_key_vouches_for(signed: Signed) -> None:
    certificates = archive_certificates(signed.archive)
    root, signing = certificates.root, certificates.signing
    dealer = signed.archive.settings.dealer_name
    assert organisation(root) == organisation(signing) == dealer
    assert signing.issuer == root.subject
    signing.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not signing.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    start = first_event_time(signed.archive).replace(microsecond=0)
    assert signing.not_valid_before_utc == start and signing.not_valid_after_utc == NOT_AFTER
    assert start <= signed.volume.sealed_at
    again = make_certificates(load_signer(signed.archive.settings), dealer, start)
    assert again.der() == certificates.der()  # made afresh, the same bytes
    other = SignerKey.generate(signed.key.name)
    assert not is_archive_root(make_certificates(other, dealer, start).root, signed.key)


# -- what verify-bundle refuses -------------------------------------------------------------------


def test_a_bundle_resigned_by_another_key_is_refused_with_the_archives_key(
    signed: Signed,
) -> None:
    """The forger strips the signature, re-signs the checkpoint and the PDF with a key and
    certificates of his own, and puts his key in the manifest: the file agrees with itself, so
    only the archive's key tells."""
    intruder = SignerKey.generate(signed.key.name)
    checkpoint = parse_checkpoint(signed.manifest["proof"]["checkpoint"])

    def resign(manifest: dict[str, Any]) -> None:
        manifest["proof"]["checkpoint"] = sign_checkpoint(checkpoint.body, intruder)
        manifest["proof"]["public_key"] = intruder.verifier().text()

    stripped = unsigned(edit_manifest(signed.pdf, resign))
    dealer = signed.archive.settings.dealer_name
    certificates = make_certificates(intruder, dealer, datetime(2026, 1, 1, tzinfo=UTC))
    forged = sign_pdf(stripped, certificates, signed.volume.sealed_at, "伪造")
    findings = check_bundle(forged, signed.key).findings
    assert {f.code for f in findings} == {
        "signature_untrusted",
        "key_mismatch",
        "checkpoint_signature",
    }
    untrusted = next(f for f in findings if f.code == "signature_untrusted")
    assert KeyLabel.of(signed.key.name, signed.key.public_key).text() in untrusted.message_zh
    assert "xn--" not in untrusted.message_zh + untrusted.message_en  # the dealer, not punycode
    alone = check_bundle(forged)
    assert alone.intact and not alone.authenticated and alone.key_source == "embedded"


def test_an_unsigned_bundle_is_refused(signed: Signed) -> None:
    """A bundle made before signing, or with its signature taken out."""
    assert codes(unsigned(signed.pdf), signed.key) == {"pdf_unsigned"}


def test_an_annotation_inside_the_signed_revision_is_refused(signed: Signed) -> None:
    """Signed with the archive's own certificate, yet carrying a note the archive never makes
    (a scan brought it in, or a signing key was misused)."""

    def note(writer: PdfWriter) -> None:
        writer.add_annotation(0, FreeText(text="已付款", rect=(50, 50, 200, 80)))

    certificates = archive_certificates(signed.archive)
    carrying = sign_pdf(unsigned(signed.pdf, note), certificates, signed.volume.sealed_at, "测试")
    found = check_bundle(carrying, signed.key)
    assert {f.code for f in found.findings} == {"annotation_unexpected"}
    assert "第 1 页 /FreeText" in found.findings[0].message_zh


def test_every_field_written_is_a_field_the_check_knows(signed: Signed) -> None:
    """The lists ``verify-bundle`` refuses unknown fields by are the fields the builder writes."""
    manifest = signed.manifest
    assert set(manifest) <= MANIFEST_FIELDS and {"dealer", "proof"} <= set(manifest)
    assert set(manifest["proof"]) == PROOF_FIELDS
    doc = signed.archive.app.repository.get(UUID(manifest["documents"][0]["id"]))
    assert set(document_facts(doc)) | {"events"} == DOCUMENT_FIELDS
    assert set(volume_facts(signed.volume)) | {"events"} == VOLUME_FIELDS
    for entry in [*manifest["documents"], manifest["volume"]]:
        for event in entry["events"]:
            assert set(event) <= EVENT_FIELDS
    (first,) = signed.archive.app.recorder.select_notifications(start=None, limit=1)
    assert set(event_facts(signed.archive.app.mapper.to_domain_event(first))) <= EVENT_FIELDS


def test_a_long_dealer_name_fits(signed: Signed) -> None:
    """The common name holds 64 UTF-8 bytes (21 Chinese characters); the organisation, which
    verify-bundle compares with the manifest, holds the whole name, and the CMS still fits."""
    dealer = "上海大众汽车北京博瑞祥驰汽车销售服务有限公司第二分公司售后服务部"
    key = SignerKey.generate("archive.long/v1")
    certificates = make_certificates(key, dealer, datetime(2026, 1, 1, tzinfo=UTC))
    assert organisation(certificates.signing) == dealer
    resigned = sign_pdf(unsigned(signed.pdf), certificates, signed.volume.sealed_at, "测试")
    report = check_bundle(resigned, key.verifier())
    assert report.signed_by == dealer
    assert "manifest_dealer_mismatch" in {f.code for f in report.findings}  # not this archive's


def test_a_scans_own_annotations_are_not_bound(signed: Signed) -> None:
    """An uploaded slip carrying a note: the printed document shows the slip's page without it
    (the original, note and all, is what the events' SHA-256 names), and verifies."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes("slip")))
    writer.add_annotation(0, FreeText(text="已付款", rect=(10, 10, 120, 40)))
    slip = io.BytesIO()
    writer.write(slip)
    order = work_order("WO-SLIP", service_advisor="刘洋", technicians="周强")
    commands.file_document(signed.archive, "work_order", order, "li.na")
    commands.attach_scan(
        signed.archive,
        "work_order",
        "WO-SLIP",
        io.BytesIO(slip.getvalue()),
        "li.na",
        filename="slip.pdf",
        label="带批注的单据",
    )
    printed = print_document(signed.archive, "work_order", "WO-SLIP")
    assert printed.pages == 2  # the form, then the slip's page
    report = check_bundle(printed.pdf, signed.key)
    assert report.intact, [f.message_en for f in report.findings]
