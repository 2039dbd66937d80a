"""The PDF signature: made by a certificate the archive's key issued, over exactly these bytes.

pyHanko's own validator checks it (``validate_pdf_signature``): the digest of the signed byte
range, the CMS signature, and the certificate chain up to a trust root. The one trust root is
the certificate among those the CMS carries that is self-signed by the archive's key (the key
given with ``--key``, else the one the manifest carries, which shows only that the file agrees
with itself). What came after the signed bytes is ``revisions``' business.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from archive.bundle.check.report import BundleReport
from archive.bundle.signing import SIGNATURE_FIELD
from archive.integrity.certificate import is_archive_root, organisation
from archive.integrity.key_label import KeyLabel
from archive.integrity.keys import VerifierKey


@dataclass(frozen=True)
class SignedFile:
    """What the PDF signature stands behind."""

    reader: PdfFileReader
    revision: int  # the revision signed (0 = the file as first written)
    signed_end: int  # the signature's byte range ends here
    dealer: str | None  # the organisation of the signing certificate
    signed_at: datetime | None
    trusted: bool  # valid, and issued by the archive's key


def check_signature(
    stream: IO[bytes], key: VerifierKey | None, report: BundleReport
) -> SignedFile | None:
    """Validate the archive's signature; ``None`` when the file has none that can be read."""
    with _pyhanko_quiet():
        try:
            stream.seek(0)
            reader = PdfFileReader(stream, strict=False)
            signatures = reader.embedded_signatures
        except Exception as error:  # a damaged file fails anywhere in pyHanko's reader
            report.add(
                "signature_unreadable",
                "无法读取 PDF 的数字签名（文件结构已损坏）",
                f"the PDF's signature cannot be read: {error or type(error).__name__}",
            )
            return None
        ours = [s for s in signatures if s.field_name == SIGNATURE_FIELD]
        for other in signatures:
            if other.field_name != SIGNATURE_FIELD:
                report.add(
                    "signature_unexpected",
                    f"PDF 中有一个不是本档案所加的签名（签名域 {other.field_name}）",
                    f"the PDF holds a signature the archive did not make ({other.field_name})",
                )
        if len(ours) != 1:
            report.add(
                "pdf_unsigned",
                "PDF 没有本档案的数字签名：它不是本系统生成的文件，或签名已被去掉",
                f"the PDF carries {len(ours)} archive signatures instead of one: not made by "
                "the archive, or the signature was taken out",
            )
            return None
        stream.seek(0)
        _check_layout(stream.read(), ours[0], report)
        return _validate(reader, ours[0], key, report)


# The byte range as pyHanko writes it, in the signed bytes just after the signature value.
_BYTE_RANGE = re.compile(rb"\s*/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_HEX = re.compile(rb"[0-9A-Fa-f]*")


def _check_layout(data: bytes, signature: EmbeddedPdfSignature, report: BundleReport) -> None:
    """The signed bytes are the file, in place: the byte range starts at 0, the one gap is the
    signature value written as a hex string, and the byte range the
    validator used is the one written in the signed bytes just after that gap.

    pyHanko checks the digest over whatever byte range the signature dictionary names, and
    judges its coverage by sizes only. A forger can append a new cross-reference section that
    moves the dictionary and points its byte range at a copy of the original tail: every
    signed byte is still there, the digest holds, and the pages draw something else
    (signature wrapping). Checked against the bytes themselves, that layout cannot pass."""
    try:
        start1, length1, start2, length2 = (int(n) for n in signature.byte_range)
    except (TypeError, ValueError):
        start1 = length1 = start2 = length2 = -1
    # pyHanko writes /ByteRange right after /Contents: the first one in the signed tail.
    written = _BYTE_RANGE.match(data, start2 + 1) if 0 < start2 < len(data) else None
    gap = data[length1 + 1 : start2 - 1] if 0 < length1 < start2 <= len(data) else b""
    sound = (
        start1 == 0
        and start2 + length2 <= len(data)  # what follows is check_revisions' to name
        and written is not None
        and tuple(int(n) for n in written.groups()) == (0, length1, start2, length2)
        and data[length1 : length1 + 1] == b"<"
        and data[start2 - 1 : start2] == b">"
        and _HEX.fullmatch(gap) is not None
        and len(gap) % 2 == 0
        and bytes.fromhex(gap.decode()).rstrip(b"\0")
        == bytes(signature.pkcs7_content).rstrip(b"\0")
    )
    if not sound:
        report.add(
            "signature_layout",
            "PDF 数字签名覆盖的范围与文件实际内容不一致：签名后文件被重新排列（签名包装），"
            "页面显示的内容未必是签过名的内容",
            "the PDF signature's byte range is not the file as it stands (the signed bytes were "
            "rearranged after signing: signature wrapping); the pages may show unsigned content",
        )


def _validate(
    reader: PdfFileReader, signature: EmbeddedPdfSignature, key: VerifierKey | None, report
) -> SignedFile:
    signed_at = signature.self_reported_timestamp
    signing = x509.load_der_x509_certificate(signature.signer_cert.dump())
    roots = (
        [
            c
            for c in signature.other_embedded_certs
            if is_archive_root(x509.load_der_x509_certificate(c.dump()), key)
        ]
        if key is not None
        else []
    )
    if key is not None and not roots:
        label = KeyLabel.of(key.name, key.public_key)  # the dealer, not its punycode
        report.add(
            "signature_untrusted",
            f"PDF 签名所用的证书不是由本档案的密钥（{label.text()}）签发的：文件可能被他人重签",
            f"the PDF's signing certificate was not issued by the archive's key "
            f"({label.dealer}, fingerprint {label.fingerprint}): it may have been re-signed by "
            "someone else",
        )
    try:
        context = ValidationContext(
            trust_roots=roots,
            allow_fetching=False,
            moment=signed_at or datetime.now(UTC),
        )
        status = validate_pdf_signature(signature, context, skip_diff=True)
        sound = status.intact and status.valid
        trusted = sound and status.trusted
    except Exception as error:  # a forged CMS can fail anywhere in decoding
        sound = trusted = False
        detail = str(error) or type(error).__name__
    else:
        detail = "the digest or the signature does not match"
    if not sound:
        report.add(
            "signature_invalid",
            "PDF 的数字签名与文件内容不符：签名之后文件被改动过，或签名本身被改动",
            f"the PDF signature does not match the file ({detail}): the file or the signature "
            "was changed after signing",
        )
    elif roots and not trusted:
        report.add(
            "signature_untrusted",
            "PDF 签名的证书链不能追溯到本档案的密钥",
            "the PDF signature's certificate chain does not lead to the archive's key",
        )
    return SignedFile(
        reader,
        signature.signed_revision,
        _signed_end(signature.byte_range),
        organisation(signing),
        signed_at,
        trusted,
    )


def _signed_end(byte_range) -> int:
    """Where the signed bytes end (0 for a byte range that is not the usual two pieces)."""
    try:
        _, _, start2, length2 = (int(n) for n in byte_range)
    except (TypeError, ValueError):
        return 0
    return start2 + length2


@contextlib.contextmanager
def _pyhanko_quiet() -> Iterator[None]:
    """pyHanko logs what it makes of odd files; the report says what matters, in Chinese."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
