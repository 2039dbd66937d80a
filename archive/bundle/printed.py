"""Reading a bundle's pages back: what the printed forms and the fee summary say.

``templates/print/document.html`` prints, under each form's title, the document's number, the
version bound and the first 12 hex digits of its content hash::

    委托书号：WO2610010001　第 5 版　内容摘要 7aa1242211fe

and ``templates/print/fees.html`` the return binding's claim count and fee total. ``archive
verify-bundle`` reads these from the PDF's text to tie what a reader sees on paper to the
manifest and, through it, to the signed log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.kinds.registry import KINDS

PRINTED_HASH_DIGITS = 12

_LABELS = {kind.number_label: kind.code for kind in KINDS.values()}
_HEAD = re.compile(
    "(" + "|".join(map(re.escape, sorted(_LABELS, key=len, reverse=True))) + ")"
    r"：\s*(\S+?)\s*第\s*(\d+)\s*版\s*内容摘要\s*([0-9a-f]{12})(?![0-9A-Za-z])"
)
# Anything that looks like a printed content hash, however written: a head the strict pattern
# above cannot read is reported, not skipped. (The signature table's column is titled
# "所签内容摘要" and followed by text, not digits.)
_HEAD_LIKE = re.compile(r"内容摘要[\s\u200b\u3000:：]*[0-9A-Fa-f]{4}")
_FEES = re.compile(r"三包索赔单\s*(\d+)\s*份，\s*服务费用合计\s*(-?[\d,]+\.\d{2})\s*元")


@dataclass(frozen=True)
class PrintedHead:
    kind: str
    number: str
    version: int
    content_hash: str  # the printed digits only
    page: int  # 1-based


def printed_heads(texts: list[str]) -> tuple[list[PrintedHead], list[int]]:
    """The form heads on the pages (their text, in page order), and the pages where something
    looks like a head but does not read as one."""
    heads, unreadable = [], []
    for page, text in enumerate(texts, start=1):
        found = _HEAD.findall(text)
        heads += [
            PrintedHead(_LABELS[label], number, int(version), digits, page)
            for label, number, version, digits in found
        ]
        if len(_HEAD_LIKE.findall(text)) != len(found):
            unreadable.append(page)
    return heads, unreadable


def printed_fees(texts: list[str]) -> list[tuple[int, str, int]]:
    """Every (claim count, fee total as printed, page) the fee summary states."""
    return [
        (int(count), total, page)
        for page, text in enumerate(texts, start=1)
        for count, total in _FEES.findall(text)
    ]
