"""What ``verify-bundle`` found, and the few things every part of the check shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from archive.integrity.findings import EventName, Finding


@dataclass(frozen=True)
class BoundRef:
    """A document the bundle holds, at the version it holds."""

    kind: str
    number: str
    id: str
    version: int
    content_hash: str


@dataclass
class BundleReport:
    """What ``verify-bundle`` found; ``intact`` only when every link held."""

    findings: list[Finding] = field(default_factory=list)
    key_source: str | None = None  # "given" (--key, or the archive's own) or "embedded"
    binding: str | None = None
    volume: str | None = None
    origin: str | None = None
    tree_size: int | None = None
    root: str | None = None
    documents: int = 0
    left_out: int = 0
    events: int = 0
    pages: int = 0
    printed: int = 0
    seconds: float = 0.0
    bound: list[BoundRef] = field(default_factory=list)
    signed_by: str | None = None  # the dealer the PDF signature's certificate names
    signed_at: datetime | None = None  # the signing time the signature states

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def authenticated(self) -> bool:
        """Intact and checked against a key the auditor holds, not only the file's own."""
        return self.intact and self.key_source == "given"

    def add(self, code: str, zh: str, en: str, event: EventName | None = None) -> None:
        self.findings.append(Finding(code, zh, en, event=event))

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "authenticated": self.authenticated,
            "key_source": self.key_source,
            "binding": self.binding,
            "volume": self.volume,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root": self.root,
            "documents": self.documents,
            "left_out": self.left_out,
            "events": self.events,
            "pages": self.pages,
            "printed_forms": self.printed,
            "signed_by": self.signed_by,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "seconds": round(self.seconds, 3),
            "findings": [f.as_dict() for f in self.findings],
        }


class Malformed(Exception):
    """A manifest entry that is not shaped as the format says."""


def uuid_of(value: Any) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise Malformed(f"{value!r} is not an id") from None


def short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
