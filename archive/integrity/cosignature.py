"""Witness cosignatures of checkpoints (c2sp.org/tlog-cosignature, ``cosignature/v1``).

A witness (the service centre, or an offline key in a safe) keeps its own Ed25519 key and
adds one signature line to a checkpoint it has seen::

    — <witness name> base64(key id ‖ u64 timestamp ‖ Ed25519 signature)

The signature is over ``cosignature/v1\\ntime <unix seconds>\\n`` followed by the whole note
text of the checkpoint (extension lines included, signature lines not). The key id is the
signed-note one with signature type 0x04: ``SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]``.

Key files use the signed-note text formats with type byte 0x04, as
``github.com/transparency-dev/formats/note`` reads them:

- private: ``PRIVATE+KEY+<name>+<key id hex>+<base64(0x04 ‖ seed)>``
- public (vkey): ``<name>+<key id hex>+<base64(0x04 ‖ public key)>``

Nothing here needs an archive: ``archive witness cosign`` runs where the witness key is kept.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from archive.integrity.keys import (
    COSIGNATURE_V1,
    key_id,
    new_seed,
    parse_key_text,
    public_key_of,
)
from archive.integrity.notes import (
    MAX_SIGNATURES,
    BadNote,
    NoteSignature,
    SignedNote,
    parse_checkpoint,
    valid_key_name,
)

_TIMESTAMP = struct.Struct(">Q")
_SIGNATURE_BYTES = 64
_TIMESTAMP_MAX = 2**63 - 1  # the spec's limit for a cosignature's time
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z, the last time ``datetime`` can hold


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a cosignature signs: the header line, the time line, the checkpoint's text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class Cosignature:
    """A witness's signature line, read: who, when (Unix seconds), and whether it verifies."""

    name: str
    timestamp: int
    valid: bool

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)


@dataclass(frozen=True)
class WitnessVerifier:
    """A witness's public key: what checks its cosignatures."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key, COSIGNATURE_V1)

    def text(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> WitnessVerifier:
        name, id_hex, public_key = parse_key_text(text, "", COSIGNATURE_V1)
        verifier = cls(name, public_key)
        if verifier.key_id.hex() != id_hex:
            raise ValueError("the key id does not match the key")
        return verifier

    def cosignatures(self, note: SignedNote) -> list[Cosignature]:
        """Every cosignature of this witness on ``note``, each checked."""
        return [self._check(note.text, s) for s in note.signatures_of(self.name, self.key_id)]

    def _check(self, text: str, signature: NoteSignature) -> Cosignature:
        blob = signature.signature
        if len(blob) != _TIMESTAMP.size + _SIGNATURE_BYTES:
            return Cosignature(self.name, 0, valid=False)
        (timestamp,) = _TIMESTAMP.unpack(blob[: _TIMESTAMP.size])
        if timestamp > _LAST_SECOND:  # beyond what a date can say: no witness's clock is there
            return Cosignature(self.name, 0, valid=False)
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                blob[_TIMESTAMP.size :], cosigned_message(text, timestamp)
            )
        except InvalidSignature:
            return Cosignature(self.name, timestamp, valid=False)
        return Cosignature(self.name, timestamp, valid=True)


@dataclass(frozen=True)
class WitnessSigner:
    """A witness's private key: what cosigns checkpoints."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> WitnessSigner:
        if not valid_key_name(name):
            raise ValueError("a witness name is not empty and holds no space and no '+'")
        return cls(name, new_seed())

    def verifier(self) -> WitnessVerifier:
        return WitnessVerifier(self.name, public_key_of(self.seed))

    def text(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> WitnessSigner:
        name, id_hex, seed = parse_key_text(text, "PRIVATE+KEY+", COSIGNATURE_V1)
        signer = cls(name, seed)
        if signer.verifier().key_id.hex() != id_hex:
            raise ValueError("the key id does not match the key")
        return signer

    def signature(self, text: str, timestamp: int) -> NoteSignature:
        if not 0 <= timestamp <= _TIMESTAMP_MAX:
            raise ValueError("a cosignature's time is between 0 and 2^63-1")
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        signed = private.sign(cosigned_message(text, timestamp))
        return NoteSignature(self.name, self.verifier().key_id, _TIMESTAMP.pack(timestamp) + signed)


def cosign(note: str | bytes, signer: WitnessSigner, at: datetime) -> str:
    """``note`` (a checkpoint, read strictly) with ``signer``'s cosignature at ``at`` added.

    An earlier cosignature by the same key is replaced, as Go's ``note.Sign`` does: a note
    carries one signature per key, the newest.
    """
    checkpoint = parse_checkpoint(note)
    key = signer.verifier()
    others = tuple(
        s for s in checkpoint.note.signatures if (s.key_name, s.key_id) != (key.name, key.key_id)
    )
    if len(others) + 1 > MAX_SIGNATURES:
        raise BadNote(f"more than {MAX_SIGNATURES} signatures")
    mine = signer.signature(checkpoint.note.text, int(at.timestamp()))
    return SignedNote(checkpoint.note.text, (*others, mine)).render()
