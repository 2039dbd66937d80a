"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

A checkpoint says "the first N events of this archive have Merkle root R", signed::

    archive.xn--fsqr9bq0ai2bh5bw18c0a842ir02a1l0cy4mlwd/v1
    1234
    3q2+7w...base64 root...=

    — archive.xn--fsqr9bq0ai2bh5bw18c0a842ir02a1l0cy4mlwd/v1 AbCd...base64(key id ‖ signature)...

The signed text is the three body lines with their newlines; the signature lines follow the
last blank line. Pure functions only: files and keys are the callers' business.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from archive.integrity.keys import SignerKey, VerifierKey

SIGNATURE_PREFIX = "— "  # em dash, space
_SIZE = re.compile(r"0|[1-9][0-9]*")


class BadNote(ValueError):
    """Text that is not a well-formed checkpoint note."""


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class NoteSignature:
    key_name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class SignedNote:
    text: str  # what the signatures sign: every line before the last blank one, newlines included
    signatures: tuple[NoteSignature, ...]

    def signed_by(self, key: VerifierKey) -> bool:
        """True when a signature of ``key`` (same name and key id) verifies.

        As the signed-note spec says: signatures of other keys are ignored, and a failing
        signature of this key rejects the note.
        """
        mine = [s for s in self.signatures if (s.key_name, s.key_id) == (key.name, key.key_id)]
        message = self.text.encode()
        return bool(mine) and all(key.verify(message, s.signature) for s in mine)


@dataclass(frozen=True)
class Checkpoint:
    body: CheckpointBody
    note: SignedNote

    def signed_by(self, key: VerifierKey) -> bool:
        return self.note.signed_by(key)


def sign_note(text: str, key: SignerKey) -> str:
    """``text`` (ending in a newline), a blank line, and one signature line by ``key``."""
    if not text.endswith("\n"):
        raise ValueError("a note's text ends with a newline")
    blob = key.verifier().key_id + key.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{key.name} {base64.b64encode(blob).decode()}\n"


def sign_checkpoint(body: CheckpointBody, key: SignerKey) -> str:
    return sign_note(body.text(), key)


def parse_note(note: str) -> SignedNote:
    """Split a signed note into its text and signature lines (:class:`BadNote` if malformed)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise BadNote("control characters in the note")
    split = note.rfind("\n\n")
    if split < 0:
        raise BadNote("no blank line before the signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    if not signature_block.endswith("\n"):
        raise BadNote("the signatures do not end with a newline")
    signatures = tuple(_parse_signature(line) for line in signature_block[:-1].split("\n"))
    return SignedNote(text, signatures)


def parse_checkpoint(note: str) -> Checkpoint:
    """A signed note whose text is a checkpoint (extension lines are allowed and ignored)."""
    signed = parse_note(note)
    lines = signed.text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise BadNote("a checkpoint needs an origin, a tree size and a root hash")
    origin, size_text, root_text = lines[:3]
    if not _SIZE.fullmatch(size_text):
        raise BadNote(f"tree size {size_text!r} is not a decimal number")
    root = _b64(root_text)
    if len(root) != 32:
        raise BadNote("the root hash is not 32 bytes")
    return Checkpoint(CheckpointBody(origin, int(size_text), root), signed)


def _parse_signature(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise BadNote(f"not a signature line: {line[:40]!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    blob = _b64(encoded)
    if not name or len(blob) < 5:
        raise BadNote("a signature line needs a key name and a signature")
    return NoteSignature(name, blob[:4], blob[4:])


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise BadNote(f"not base64: {text[:40]!r}") from None
