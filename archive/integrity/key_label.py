"""The checkpoint key as people name it: the dealer it belongs to and a short fingerprint.

A key's name is ``archive.<dealer>/v1`` with a Chinese dealer in punycode
(``archive.xn--fsqr9bq0…/v1``), which says nothing to an auditor; pages and the CLI say the
dealer's name and a fingerprint of the public key instead, which can be read out over the phone
and compared with the one printed where the key was published.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PREFIX, SUFFIX = "archive.", "/v1"


def dealer_of(name: str) -> str:
    """The dealer in a key or checkpoint origin name (as it was when the key was made)."""
    label = name.removeprefix(PREFIX).removesuffix(SUFFIX)
    if label.startswith("xn--"):
        try:
            return label[4:].encode("ascii").decode("punycode")
        except UnicodeError:  # not punycode after all: show it as written
            return label
    return label


def fingerprint(public_key: bytes) -> str:
    """The first 8 bytes of SHA-256 of the raw public key, in groups of four hex digits."""
    digest = hashlib.sha256(public_key).hexdigest()[:16].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class KeyLabel:
    dealer: str
    fingerprint: str
    name: str  # the key's own name, for whoever compares it with checkpoint.vkey

    @classmethod
    def of(cls, name: str, public_key: bytes) -> KeyLabel:
        return cls(dealer_of(name), fingerprint(public_key), name)

    def text(self) -> str:
        return f"{self.dealer}（指纹 {self.fingerprint}）"
