"""Rendered runs of documents, kept under ``$ARCHIVE_HOME/cache/print/`` by content.

The key hashes the print models of the run (each names its document's content hash, version,
signatures and scans) with the templates' fingerprint, so a key can only ever name one
rendering: an entry is written once and never goes stale, and a changed document or template
simply misses. Bundling a sealed volume again, or its other binding, reuses what is here.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from archive.bundle.render import RenderedPart
from archive.bundle.templates import fingerprint


def chunk_key(models: list[dict[str, Any]], dealer: str) -> str:
    """SHA-256 naming the rendering of these documents with the current templates."""
    text = json.dumps(
        {"templates": fingerprint(), "dealer": dealer, "documents": models},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


class RenderCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.root / key[:2]
        return folder / f"{key}.pdf", folder / f"{key}.json"

    def get(self, key: str) -> RenderedPart | None:
        pdf_path, layout_path = self._paths(key)
        try:
            layout = json.loads(layout_path.read_text(encoding="utf-8"))
            pdf = pdf_path.read_bytes()
        except (OSError, ValueError):
            return None
        if hashlib.sha256(pdf).hexdigest() != layout["pdf_sha256"]:
            return None  # a torn or tampered file: render again
        anchors = {name: (span[0], span[1]) for name, span in layout["anchors"].items()}
        return RenderedPart(pdf, layout["pages"], anchors)

    def put(self, key: str, part: RenderedPart) -> None:
        pdf_path, layout_path = self._paths(key)
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        layout = {
            "pages": part.pages,
            "anchors": {name: list(span) for name, span in part.anchors.items()},
            "pdf_sha256": hashlib.sha256(part.pdf).hexdigest(),
        }
        # The PDF first, its layout last: a layout on disk always has its PDF beside it.
        _write_atomically(pdf_path, part.pdf)
        _write_atomically(layout_path, json.dumps(layout).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
