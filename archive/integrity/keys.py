"""The archive's Ed25519 checkpoint key, kept on disk apart from every database.

Whoever can rewrite the database must not also be able to re-sign its history, so the key lives
in ``$ARCHIVE_HOME/keys/`` (the folder 0700, the private key 0600). Both files use the text
formats of Go's ``golang.org/x/mod/sumdb/note``, so an auditor can check checkpoints with
standard signed-note tools:

- ``checkpoint.key`` (private): ``PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ seed)>``
- ``checkpoint.vkey`` (public): ``<name>+<key id hex>+<base64(0x01 ‖ public key)>``

The key name is the log's origin, ``archive.<dealer>/v1``, derived from ``ARCHIVE_DEALER_NAME``
when the key is made and then kept in the key files: renaming the dealer later changes nothing.
The key id is the C2SP signed-note one: ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]``.

:func:`ensure_key` makes the key if there is none; ``archive init`` calls it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from archive.config import Settings
from archive.errors import ArchiveError
from archive.integrity.files import durable_draft

ED25519 = 0x01  # the signed-note signature type of Ed25519
COSIGNATURE_V1 = 0x04  # timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature)
PRIVATE_FILE = "checkpoint.key"
PUBLIC_FILE = "checkpoint.vkey"


class KeyProblem(ArchiveError):
    """The checkpoint key is missing, unreadable or inconsistent."""


def log_name(settings: Settings) -> str:
    """``archive.<dealer>/v1``: a stable origin and key name with no spaces and no ``+``.

    A Chinese dealer name is written in punycode (as in an internationalised host name), so the
    name stays ASCII like other transparency-log origins.
    """
    label = re.sub(r"[\s+/]+", "-", settings.dealer_name.strip().lower()).strip("-") or "dealer"
    if not label.isascii():
        label = "xn--" + label.encode("punycode").decode("ascii")
    return f"archive.{label}/v1"


def key_id(name: str, public_key: bytes, signature_type: int = ED25519) -> bytes:
    """The C2SP signed-note key id of an Ed25519 key (4 bytes); a witness's cosigning key
    has the same shape with signature type :data:`COSIGNATURE_V1`."""
    head = name.encode() + b"\n" + bytes([signature_type])
    return hashlib.sha256(head + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A public key with its name: what checks a checkpoint's signature."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def text(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        name, id_hex, public_key = parse_key_text(text, prefix="")
        verifier = cls(name, public_key)
        if verifier.key_id.hex() != id_hex:
            raise ValueError("the key id does not match the key")
        return verifier


def new_seed() -> bytes:
    """A fresh Ed25519 private key, as its 32-byte seed (what key files hold)."""
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )


def public_key_of(seed: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of ``seed``."""
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class SignerKey:
    """The private key with its name: what signs checkpoints."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> SignerKey:
        return cls(name, new_seed())

    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, public_key_of(self.seed))

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def text(self) -> str:
        verifier = self.verifier()
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{verifier.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        name, id_hex, seed = parse_key_text(text, prefix="PRIVATE+KEY+")
        signer = cls(name, seed)
        if signer.verifier().key_id.hex() != id_hex:
            raise ValueError("the key id does not match the key")
        return signer


def parse_key_text(text: str, prefix: str, signature_type: int = ED25519) -> tuple[str, str, bytes]:
    """(name, key id in hex, raw key) of ``<prefix><name>+<id>+<base64(type ‖ key)>``."""
    text = text.strip()
    if not text.startswith(prefix):
        raise ValueError(f"expected {prefix!r}")
    parts = text[len(prefix) :].split("+", 2)  # base64 may hold "+"; a name may not
    if len(parts) != 3:
        raise ValueError("expected name+id+key")
    name, id_hex, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise ValueError("the key is not base64") from error
    if not name or any(c.isspace() for c in name):
        raise ValueError("the key name is empty or holds a space")
    if len(raw) != 33 or raw[0] != signature_type:
        raise ValueError(
            "not an Ed25519 key" + ("" if signature_type == ED25519 else " of a witness")
        )
    return name, id_hex, raw[1:]


# -- on disk -------------------------------------------------------------------------------


def ensure_key(settings: Settings) -> VerifierKey:
    """Make the archive's checkpoint key if it has none; return its public half.

    Safe to call on every ``archive init`` and from two processes at once. A public key left
    without its private key is refused rather than replaced: old checkpoints were signed with
    the lost key, and a new one must be a deliberate act (restore the backup, or move both
    files away).
    """
    folder = settings.layout.keys
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    private, public = folder / PRIVATE_FILE, folder / PUBLIC_FILE
    if not private.exists():
        if public.exists():
            raise KeyProblem(
                "key_missing",
                f"只有公钥没有私钥（{private}）：请从备份恢复私钥，不要另造新钥",
                f"{public} exists without its private key {private}; restore it from backup",
            )
        _publish(private, SignerKey.generate(log_name(settings)).text() + "\n", 0o600)
    if private.stat().st_mode & 0o077:
        private.chmod(0o600)
    verifier = load_signer(settings).verifier()
    if not public.exists():
        _publish(public, verifier.text() + "\n", 0o644)
    return verifier


def load_signer(settings: Settings) -> SignerKey:
    path = settings.layout.keys / PRIVATE_FILE
    try:
        return SignerKey.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyProblem(
            "key_missing",
            f"没有检查点签名私钥 {path}：请先运行 archive init",
            f"no checkpoint signing key at {path}; run `archive init`",
        ) from None
    except (OSError, ValueError) as error:
        raise KeyProblem(
            "key_unreadable",
            f"检查点签名私钥 {path} 无法读取：{error}",
            f"cannot read the checkpoint signing key {path}: {error}",
        ) from None


def load_verifier(settings: Settings) -> VerifierKey | None:
    """The archive's public key, or ``None`` if it has none yet."""
    path = settings.layout.keys / PUBLIC_FILE
    try:
        return VerifierKey.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise KeyProblem(
            "key_unreadable",
            f"检查点公钥 {path} 无法读取：{error}",
            f"cannot read the checkpoint public key {path}: {error}",
        ) from None


def _publish(path: Path, text: str, mode: int) -> None:
    """Write ``path`` whole or not at all, and never over an existing file (first one wins)."""
    with (
        durable_draft(path.parent, path.name, text, mode) as draft,
        contextlib.suppress(FileExistsError),  # another process was first: keep theirs
    ):
        os.link(draft, path)
