"""Signing a finished bundle (or printed document) as a PDF: PAdES baseline B-B, with pyHanko.

The signature is an incremental update over the merged file: an invisible signature field
(``ArchiveSignature``, a zero-size widget on the first page, as PDF/A allows) whose CMS
(ETSI.CAdES.detached) is made with the archive's signing certificate
(``archive.integrity.certificate``) and carries it and its root. B-B is the baseline that needs
no network: no timestamp authority (B-T) and no revocation data (B-LT) — the trust anchor is the
archive's own key, which ``verify-bundle`` is given.

The same volume must give the same bytes, so everything pyHanko would make up is fixed here:

- the signing time (the sig dictionary's ``/M``) is the moment given: the seal's time;
- ECDSA signs deterministically (RFC 6979), so the CMS is a function of the bytes signed;
- the second half of the file identifier is derived from the unsigned file, not random;
- the space reserved for the CMS is a constant, not an estimate from a trial signature;
- the document information and XMP metadata are left exactly as WeasyPrint wrote them
  (pyHanko would stamp "now" as the modification date and rewrite the XMP without what PDF/A-3b
  needs), and only PAdES's ESIC extension is declared: pyHanko would otherwise declare ISO/TS
  32002 and raise the catalog's ``/Version`` to 2.0, which a PDF/A-3 (PDF 1.7) must not.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.signers.constants import ESIC_EXTENSION_1
from pyhanko_certvalidator.registry import SimpleCertificateStore

from archive.integrity.certificate import ArchiveCertificates, organisation

SIGNATURE_FIELD = "ArchiveSignature"
DIGEST = "sha256"
# Room kept for the CMS, in hex digits (8 KB): two certificates and a signature take ~1.7 KB,
# ~3.5 KB with a 64-character dealer name. Fixed, not estimated from a trial signature as
# pyHanko would (ECDSA signatures vary in length, and so would the file).
CMS_BYTES = 16384

T = TypeVar("T")


def sign_pdf(pdf: bytes, certificates: ArchiveCertificates, moment: datetime, reason: str) -> bytes:
    """``pdf`` with the archive's signature appended, made at ``moment``."""
    root_der, signing_der = certificates.der()
    key_der = certificates.signing_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    root = asn1_x509.Certificate.load(root_der)
    signer = _DeterministicSigner(
        signing_cert=asn1_x509.Certificate.load(signing_der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([root]),
    )
    meta = PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm=DIGEST,
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        name=organisation(certificates.signing),  # what readers show as the signer's name
    )
    writer = _Writer(io.BytesIO(pdf))
    signing = _Signer(meta, signer, moment).async_sign_pdf(writer, bytes_reserved=CMS_BYTES)
    return _run(signing).getvalue()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run pyHanko's coroutine to its end from synchronous code. Where this thread already
    runs an event loop (an async route, Playwright's sync API), ``asyncio.run`` refuses to
    start another, so the coroutine gets a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class _DeterministicSigner(SimpleSigner):
    """ECDSA with RFC 6979 nonces: the same message, the same signature."""

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or digest_algorithm != DIGEST:
            return super().sign_raw(data, digest_algorithm)
        return key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


class _Signer(PdfSigner):
    """A signer whose signing time is given, and which declares only PAdES's extension."""

    def __init__(self, meta: PdfSignatureMetadata, signer: SimpleSigner, moment: datetime):
        super().__init__(meta, signer=signer)
        self._moment = moment

    def init_signing_session(self, pdf_out: BasePdfFileWriter, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._moment
        return session

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.register_extension(ESIC_EXTENSION_1)


class _Writer(IncrementalPdfFileWriter):
    """An incremental update that keeps the metadata and derives the file identifier."""

    @classmethod
    def _handle_id(cls, prev):  # type: ignore[no-untyped-def]
        # ISO 32000 §14.4: the first half stays; the second marks this version of the file.
        first, _ = prev.trailer["/ID"]
        if isinstance(first, generic.TextStringObject):
            first = generic.ByteStringObject(first.original_bytes)
        prev.stream.seek(0)
        second = hashlib.sha256(prev.stream.read()).digest()[:16]
        return generic.ArrayObject([first, generic.ByteStringObject(second)])

    def _update_meta(self) -> None:
        """WeasyPrint's /Info and XMP (PDF/A identification, the seal's dates) stay as they are."""
