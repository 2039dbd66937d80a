"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

A checkpoint says "the first N events of this archive have Merkle root R", signed::

    archive.xn--fsqr9bq0ai2bh5bw18c0a842ir02a1l0cy4mlwd/v1
    1234
    3q2+7w...base64 root...=

    — archive.xn--fsqr9bq0ai2bh5bw18c0a842ir02a1l0cy4mlwd/v1 AbCd...base64(key id ‖ signature)...

The signed text is the three body lines with their newlines; the signature lines follow the
last blank line. Pure functions only: files and keys are the callers' business.

The parser is strict, as the specs and Go's ``golang.org/x/mod/sumdb/note`` (``Open``) are:
valid UTF-8 with no control character but newline; a final newline; every signature line
``— <name> <base64>`` with a name that is not empty and holds no space and no ``+``, and at
most 100 of them (Go's limit; the spec asks for at least 16). A checkpoint's lines are
non-empty (extension lines included), carry no leading or trailing white space, its size is a
decimal int64 with no leading zero and its root the canonical base64 of 32 bytes. A file that
breaks any rule is refused whole, never read "as best we can".
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from archive.integrity.keys import SignerKey, VerifierKey

SIGNATURE_PREFIX = "— "  # em dash, space
MAX_SIGNATURES = 100  # Go's sumdb/note refuses more
_SIZE = re.compile(r"0|[1-9][0-9]*")
_INT64_MAX = 2**63 - 1


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

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.key_name} {encoded}\n"


@dataclass(frozen=True)
class SignedNote:
    text: str  # what the signatures sign: every line before the last blank one, newlines included
    signatures: tuple[NoteSignature, ...]

    def signed_by(self, key: VerifierKey) -> bool:
        """True when a signature of ``key`` (same name and key id) verifies.

        As the signed-note spec says: signatures of other keys are ignored, and a failing
        signature of this key rejects the note.
        """
        mine = self.signatures_of(key.name, key.key_id)
        message = self.text.encode()
        return bool(mine) and all(key.verify(message, s.signature) for s in mine)

    def signatures_of(self, name: str, key_id: bytes) -> list[NoteSignature]:
        return [s for s in self.signatures if (s.key_name, s.key_id) == (name, key_id)]

    def render(self) -> str:
        """The note as text again: its text, the blank line, every signature line."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


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


def valid_key_name(name: str) -> bool:
    """Not empty, no Unicode white space, no ``+`` (signed-note; Go's ``isValidName``)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def parse_note(note: str | bytes) -> SignedNote:
    """Split a signed note into its text and signature lines (:class:`BadNote` if malformed)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise BadNote("the note is not valid UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise BadNote("control characters in the note")
    if not note.endswith("\n"):
        raise BadNote("the note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise BadNote("no blank line before the signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    if not signature_block:
        raise BadNote("the note has no signature lines")
    lines = signature_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise BadNote(f"more than {MAX_SIGNATURES} signatures")
    return SignedNote(text, tuple(_parse_signature(line) for line in lines))


def parse_checkpoint(note: str | bytes) -> Checkpoint:
    """A signed note whose text is a checkpoint (extension lines are allowed and ignored)."""
    signed = parse_note(note)
    lines = signed.text[:-1].split("\n")
    if len(lines) < 3:
        raise BadNote("a checkpoint needs an origin, a tree size and a root hash")
    for number, line in enumerate(lines, start=1):
        if not line:
            raise BadNote(f"line {number} of the checkpoint is empty")
        if line != line.strip():
            raise BadNote(f"line {number} of the checkpoint begins or ends with white space")
    origin, size_text, root_text = lines[:3]
    if not _SIZE.fullmatch(size_text) or int(size_text) > _INT64_MAX:
        raise BadNote(f"tree size {size_text[:40]!r} is not a decimal number")
    root = _b64(root_text)
    if len(root) != 32 or base64.b64encode(root).decode() != root_text:
        raise BadNote("the root hash is not the base64 of 32 bytes")
    return Checkpoint(CheckpointBody(origin, int(size_text), root), signed)


def _parse_signature(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise BadNote(f"not a signature line (— name signature): {line[:40]!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not valid_key_name(name):
        raise BadNote(f"key name {name[:40]!r} is empty or holds a space or '+'")
    blob = _b64(encoded)
    if len(blob) < 5:
        raise BadNote("a signature line needs a key id and a signature")
    return NoteSignature(name, blob[:4], blob[4:])


def _b64(text: str) -> bytes:
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadNote(f"not base64: {text[:40]!r}") from None
    if not text:
        raise BadNote("empty base64")
    return decoded
