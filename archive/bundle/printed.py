"""Reading a bundle's pages back: page numbers, form heads and the fee summary, as printed.

Every page ends with ``第 i 页 / 共 N 页`` (``page_numbers``). ``templates/print/document.html``
prints, under each form's title, the document's number, the version bound and the first 12 hex
digits of its content hash::

    委托书号：WO2610010001　第 5 版　内容摘要 7aa1242211fe

and ``templates/print/fees.html`` the return binding's claims with their fees and the total.
``archive verify-bundle`` reads these from the PDF's text to tie what a reader sees on paper to
the manifest and, through it, to the signed log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive.kinds.registry import KINDS

PRINTED_HASH_DIGITS = 12
FEES_HEADING = "服务费用汇总"

_LABELS = {kind.number_label: kind.code for kind in KINDS.values()}
_HEAD = re.compile(
    "(" + "|".join(map(re.escape, sorted(_LABELS, key=len, reverse=True))) + ")"
    r"：\s*(\S+?)\s*第\s*(\d+)\s*版\s*内容摘要\s*([0-9a-f]{12})(?![0-9A-Za-z])"
)
# What every head has however it is written: a head the pattern above cannot read is reported,
# not skipped. (Field text typed by a clerk does not say "…版 内容摘要".)
_HEAD_LIKE = re.compile(r"版[\s\u200b\u3000]*内容摘要")
_PAGE_NUMBER = re.compile(r"第 (\d+) 页 / 共 (\d+) 页")
_FEES = re.compile(r"三包索赔单\s*(\d+)\s*份，\s*服务费用合计\s*(-?[\d,]+\.\d{2})\s*元")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PrintedHead:
    kind: str
    number: str
    version: int
    content_hash: str  # the printed digits only
    page: int  # 1-based


def printed_heads(texts: Sequence[str]) -> tuple[list[PrintedHead], list[int]]:
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


def misnumbered_pages(texts: Sequence[str]) -> list[int]:
    """Pages whose footer is not ``第 i 页 / 共 N 页`` for their place i among N pages: a page
    taken out, added or moved shows here."""
    total = len(texts)
    wrong = []
    for page, text in enumerate(texts, start=1):
        found = _PAGE_NUMBER.findall(text)
        if not found or found[-1] != (str(page), str(total)):
            wrong.append(page)
    return wrong


def printed_fees(texts: Sequence[str]) -> list[tuple[int, str, int]]:
    """Every (claim count, fee total as printed, page) a fee summary states."""
    return [
        (int(count), total, page)
        for page, text in enumerate(texts, start=1)
        for count, total in _FEES.findall(text)
    ]


def compact(text: str) -> str:
    """Text without white space: how printed values are compared, since cells wrap wherever
    the text extractor likes."""
    return _SPACE.sub("", text)


def document_texts(texts: Sequence[str], starts: dict[Any, int]) -> dict[Any, str]:
    """For each document (by key) whose form starts on a page (1-based), the compacted text of
    its pages: from that page up to the next form (or the end of the file)."""
    order = sorted(starts.items(), key=lambda item: item[1])
    ends = [page for _, page in order[1:]] + [len(texts) + 1]
    return {
        key: compact("".join(texts[start - 1 : end - 1]))
        for (key, start), end in zip(order, ends, strict=True)
    }


def fee_lines_missing(texts: Sequence[str], model: dict[str, Any]) -> list[str]:
    """The rows of a fee summary (``FeeSummary.model()``) that its pages do not show.

    Table cells wrap wherever the text extractor likes, so rows are compared with all white
    space taken out of both sides.
    """
    shown = compact("".join(text for text in texts if FEES_HEADING in text))
    expected = [
        f"{i}{r['number']}{r['date']}{r['work_order_no']}{r['vin']}{r['claim_no']}{r['fee']}"
        for i, r in enumerate(model["rows"], start=1)
    ]
    expected.append(f"合计（{model['count']}份）{model['total']}")
    return [line for line in expected if line not in shown]
