"""X.509 certificates the archive's checkpoint key vouches for: what signs bundle PDFs.

Two certificates, both made afresh (and identically) whenever they are needed, never stored:

- the **root**: the checkpoint key itself (Ed25519, ``keys.py``) in a self-signed CA
  certificate. Whoever holds ``checkpoint.vkey`` recognises it by its public key;
- the **signing certificate**, issued by the root to an ECDSA P-256 key derived from the
  checkpoint key's seed (HKDF). PDF readers (Acrobat, poppler's Evince/Okular) do not check
  Ed25519 signatures on PDFs, but do P-256; so the PDF is signed with this key, and readers show
  "signed by <dealer>, unchanged since" — the chain ends at a root they do not know, which
  ``archive verify-bundle`` anchors to the archive's key.

Both name the dealer (``ARCHIVE_DEALER_NAME``) as organisation. Everything in them is fixed by
the key, the dealer and ``not_before`` (the archive's first event: every document and seal is
later), and Ed25519 signatures are deterministic, so a PDF signed twice is the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

from archive.bootstrap import Archive
from archive.integrity.keys import SignerKey, VerifierKey, ensure_key, load_signer

ROOT_SERIAL, SIGNING_SERIAL = 1, 2
# RFC 5280 §4.1.2.5: "no well-defined expiration date". The key is retired by replacing it.
NOT_AFTER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
# The order of the P-256 group: a derived private scalar must lie in [1, n - 1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
DERIVATION_INFO = b"dealer-archive/pdf-signing-key/p256/v1"
ROOT_SUFFIX = " 售后档案根证书"
COMMON_NAME_BYTES = 64  # what cryptography allows (RFC 5280's ub-common-name), in UTF-8


@dataclass(frozen=True)
class ArchiveCertificates:
    root: x509.Certificate  # self-signed by the checkpoint key
    signing: x509.Certificate  # issued by the root to ``signing_key``
    signing_key: ec.EllipticCurvePrivateKey

    def der(self) -> tuple[bytes, bytes]:
        """(root, signing certificate) in DER."""
        return (
            self.root.public_bytes(serialization.Encoding.DER),
            self.signing.public_bytes(serialization.Encoding.DER),
        )


def archive_certificates(archive: Archive) -> ArchiveCertificates:
    """The archive's certificates, made from its key (made if it has none yet)."""
    ensure_key(archive.settings)
    return make_certificates(
        load_signer(archive.settings), archive.settings.dealer_name, first_event_time(archive)
    )


def first_event_time(archive: Archive) -> datetime:
    """When the archive began: its first event's time (now, for an archive with none)."""
    first = archive.app.recorder.select_notifications(start=None, limit=1)
    if not first:
        return archive.clock()
    return archive.app.mapper.to_domain_event(first[0]).timestamp


def make_certificates(signer: SignerKey, dealer: str, not_before: datetime) -> ArchiveCertificates:
    root_key = Ed25519PrivateKey.from_private_bytes(signer.seed)
    signing_key = derived_signing_key(signer)
    start = not_before.astimezone(UTC).replace(microsecond=0)
    root_name = _name(dealer, dealer + ROOT_SUFFIX)
    root = (
        _builder(root_name, root_name, root_key.public_key(), ROOT_SERIAL, start)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, None)
    )
    signing = (
        _builder(_name(dealer, dealer), root_name, signing_key.public_key(), SIGNING_SERIAL, start)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signing_key.public_key()), False)
        .sign(root_key, None)
    )
    return ArchiveCertificates(root, signing, signing_key)


def derived_signing_key(signer: SignerKey) -> ec.EllipticCurvePrivateKey:
    """A P-256 key that only the checkpoint key's holder can derive (HKDF of its seed)."""
    okm = HKDF(hashes.SHA256(), 48, salt=None, info=DERIVATION_INFO).derive(signer.seed)
    # 48 bytes reduced mod n - 1: the bias is below 2^-128 (FIPS 186-5 A.2.1).
    scalar = int.from_bytes(okm, "big") % (P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def is_archive_root(certificate: x509.Certificate, key: VerifierKey) -> bool:
    """Whether ``certificate`` is a root self-signed by ``key`` (the checkpoint key)."""
    public = certificate.public_key()
    if not isinstance(public, Ed25519PublicKey):
        return False
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if raw != key.public_key or certificate.issuer != certificate.subject:
        return False
    try:
        public.verify(certificate.signature, certificate.tbs_certificate_bytes)
    except InvalidSignature:
        return False
    return True


def organisation(certificate: x509.Certificate) -> str | None:
    """The organisation a certificate names (the dealer), if it names exactly one."""
    found = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(found[0].value) if len(found) == 1 else None


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, in hex: how readers' certificate dialogs show it."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _name(dealer: str, common_name: str) -> x509.Name:
    """The dealer whole as organisation (what ``verify-bundle`` compares); the common name,
    which readers show, cut to what it may hold (22 Chinese characters)."""
    cut = common_name.encode()[:COMMON_NAME_BYTES].decode(errors="ignore")
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, dealer),
            x509.NameAttribute(NameOID.COMMON_NAME, cut),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key, serial: int, start: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(NOT_AFTER)
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    """A root signs certificates only; the signing certificate signs documents (and, as
    non-repudiation, stands behind them)."""
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
