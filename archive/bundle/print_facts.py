"""What a printed form shows that its own events do not say.

A form prints staff by name (the events hold usernames), times in the dealership's zone, and
its files as what they turned out to be: a drawn signature is placed as an image only when the
stored file is one, a PDF scan adds as many pages as it has. ``archive verify-bundle`` lays the
form out again from the replayed events to compare it cell by cell with the page, so the bundle's
manifest carries these facts (``print_facts``), only those its forms used, and the checker lays
out with them. They are vouched for by the bundle's signature, not by the event log.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from archive.blobs import BlobStore, sniff_media_type

MISSING = "missing"  # the media of a file the blob store does not have


@dataclass(frozen=True)
class FileFact:
    media: str  # the type sniffed from the file's first bytes, or MISSING
    pages: int  # pages of a readable PDF, else 0


class UsedNames(dict[str, str]):
    """Username → full name, remembering which usernames were looked up."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__(names)
        self.used: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.used.add(key)
        return super().get(key, default)


class PrintFacts:
    """Staff names, time zone and file facts, from an archive (recording what a layout used)
    or from a manifest (:meth:`from_dict`)."""

    def __init__(
        self,
        tz: ZoneInfo,
        names: dict[str, str],
        files: dict[str, FileFact] | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.tz = tz
        self.names = UsedNames(names)
        self.files = dict(files or {})
        self.blobs = blobs
        self.used_files: set[str] = set()

    def name(self, username: str) -> str:
        return self.names.get(username, username)

    def file(self, sha256: str) -> FileFact:
        """What the file is; a file neither stored nor stated is MISSING."""
        self.used_files.add(sha256)
        if sha256 not in self.files:
            self.files[sha256] = (
                _file_fact(self.blobs.local_path(sha256))
                if self.blobs is not None and self.blobs.exists(sha256)
                else FileFact(MISSING, 0)
            )
        return self.files[sha256]

    def as_dict(self) -> dict[str, Any]:
        """The facts looked up so far, for the manifest."""
        return {
            "time_zone": self.tz.key,
            "names": {u: self.names[u] for u in sorted(self.names.used) if u in self.names},
            "files": {
                sha: {"media": self.files[sha].media, "pages": self.files[sha].pages}
                for sha in sorted(self.used_files)
            },
        }

    @classmethod
    def from_dict(cls, data: Any) -> PrintFacts:
        """The facts a manifest states (ValueError when they are not shaped as written)."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        try:
            tz = ZoneInfo(str(data["time_zone"]))
        except (KeyError, ValueError, ZoneInfoNotFoundError):
            raise ValueError("no known time zone") from None
        names, files = data.get("names", {}), data.get("files", {})
        if not isinstance(names, dict) or not isinstance(files, dict):
            raise ValueError("names or files not an object")
        facts = {}
        for sha, fact in files.items():
            if not isinstance(fact, dict) or not isinstance(fact.get("pages"), int):
                raise ValueError(f"file {sha!r} not stated as media and pages")
            facts[str(sha)] = FileFact(str(fact.get("media")), fact["pages"])
        return cls(tz, {str(u): str(n) for u, n in names.items()}, facts)


@functools.lru_cache(maxsize=4096)
def _file_fact(path: Path) -> FileFact:
    """A stored file's facts; blobs are content-addressed, so a path's answer never changes."""
    with path.open("rb") as stream:
        media = sniff_media_type(stream.read(16)) or "application/octet-stream"
    if media.startswith("image/"):
        return FileFact(media, 0)
    try:
        return FileFact(media, len(PdfReader(path).pages))
    except (OSError, PyPdfError, ValueError):
        return FileFact(media, 0)
