"""Reading a bundle's pages back: the head line every printed form carries.

``templates/print/document.html`` prints, under each form's title, the document's number, the
version bound and the first 12 hex digits of its content hash::

    委托书号：WO2610010001　第 5 版　内容摘要 7aa1242211fe

``archive verify-bundle`` reads these from the PDF's text to tie what a reader sees on paper to
the manifest and, through it, to the signed log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pypdf import PdfReader

from archive.kinds.registry import KINDS

PRINTED_HASH_DIGITS = 12

_LABELS = {kind.number_label: kind.code for kind in KINDS.values()}
_HEAD = re.compile(
    "(" + "|".join(map(re.escape, sorted(_LABELS, key=len, reverse=True))) + ")"
    r"：\s*(\S+?)\s*第\s*(\d+)\s*版\s*内容摘要\s*([0-9a-f]{12})\b"
)


@dataclass(frozen=True)
class PrintedHead:
    kind: str
    number: str
    version: int
    content_hash: str  # the printed digits only
    page: int  # 1-based


def printed_heads(reader: PdfReader) -> list[PrintedHead]:
    """Every form head on every page, in page order."""
    return [
        PrintedHead(_LABELS[label], number, int(version), digits, page)
        for page, sheet in enumerate(reader.pages, start=1)
        for label, number, version, digits in _HEAD.findall(sheet.extract_text())
    ]
