"""The printed pages: numbered in order with none missing or added, each bound form's head
showing its content hash once, nothing else printed as a form, and the return binding's fee
summary stating the replayed claims' fees row by row."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from archive.bundle.bindings import RETURN, fee_summary
from archive.bundle.check.documents import ProvedDocument
from archive.bundle.check.report import BundleReport
from archive.bundle.printed import (
    PRINTED_HASH_DIGITS,
    compact,
    document_texts,
    fee_lines_missing,
    misnumbered_pages,
    printed_fees,
    printed_heads,
)
from archive.integrity.findings import subject_label
from archive.kinds.display import value_text
from archive.kinds.fieldtypes import (
    Date,
    DateTime,
    DecimalNumber,
    Integer,
    Lines,
    Phone,
    Plate,
    Vin,
)
from archive.kinds.registry import get_kind
from archive.queries.volumes import BoundDocument
from events.document import Document
from projections.ledger import Subject

SHOWN_PAGES = 10  # page numbers listed in one message


def page_texts(
    reader: PdfReader,
    report: BundleReport,
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
) -> list[str]:
    """Every page's text (most of a check's time: ~40 pages/s), saying how far it got."""
    texts = []
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        progress("pages", number - 1, total)
        try:
            texts.append(page.extract_text())
        except Exception as error:  # a damaged page: say which, read the rest
            texts.append("")
            report.add(
                "page_unreadable",
                f"PDF 第 {number} 页的文字无法读取（页面已损坏）",
                f"the text of page {number} cannot be read: {error}",
            )
    progress("pages", total, total)
    return texts


def check_page_numbers(texts: list[str], report: BundleReport) -> None:
    wrong = misnumbered_pages(texts)
    if wrong:
        pages = "、".join(map(str, wrong[:SHOWN_PAGES])) + (
            "……" if len(wrong) > SHOWN_PAGES else ""
        )
        report.add(
            "pages_misnumbered",
            f"PDF 共 {len(texts)} 页，但第 {pages} 页的页码不是“第 x 页 / 共 {len(texts)} 页”："
            "有页被抽走、添加或调换",
            f"the PDF has {len(texts)} pages but pages {pages} are not numbered as such: "
            "pages were taken out, added or moved",
        )


def check_printed(
    texts: list[str], documents: list[ProvedDocument], report: BundleReport
) -> dict[tuple[str, str], int]:
    """Check the form heads; return the page each document printed once starts on."""
    heads, unreadable = printed_heads(texts)
    starts: dict[tuple[str, str], int] = {}
    report.printed = len(heads)
    for page in unreadable:
        report.add(
            "printed_head_unreadable",
            f"PDF 第 {page} 页有形似表头内容摘要的文字，但无法按表头格式读出",
            f"page {page} shows something like a form head's content hash that does not "
            "read as one",
        )
    printed: dict[tuple[str, str], list[Any]] = {}
    for head in heads:
        printed.setdefault((head.kind, head.number), []).append(head)
    for doc in documents:
        found = printed.pop((doc.kind, doc.number), [])
        if not found:
            report.add(
                "not_printed",
                f"{subject_label(doc.subject)}在装订清单中，但 PDF 中找不到它的表头",
                f"{doc.kind} {doc.number} is in the manifest but not printed",
                doc.last_event,
            )
        elif len(found) > 1:
            pages = "、".join(str(h.page) for h in found)
            report.add(
                "printed_twice",
                f"{subject_label(doc.subject)}在 PDF 中印了 {len(found)} 次（第 {pages} 页）",
                f"{doc.kind} {doc.number} is printed {len(found)} times (pages {pages})",
                doc.last_event,
            )
        else:
            starts[(doc.kind, doc.number)] = found[0].page
        expected = (doc.version, doc.content_hash[:PRINTED_HASH_DIGITS])
        for head in found:
            if (head.version, head.content_hash) != expected:
                report.add(
                    "printed_hash_mismatch",
                    f"PDF 第 {head.page} 页所印{subject_label(doc.subject)}为第 {head.version} 版、"
                    f"内容摘要 {head.content_hash}，装订清单为第 {expected[0]} 版、{expected[1]}",
                    f"page {head.page} shows {doc.kind} {doc.number} version {head.version}, "
                    f"hash {head.content_hash}; the manifest has version {expected[0]}, "
                    f"{expected[1]}",
                    doc.last_event,
                )
    for heads_left in printed.values():
        for head in heads_left:
            subject = Subject(head.kind, head.number)
            report.add(
                "printed_not_in_manifest",
                f"PDF 第 {head.page} 页印有{subject_label(subject)}，但装订清单中没有它",
                f"page {head.page} shows {head.kind} {head.number}, which the manifest lacks",
            )
    return starts


def check_values(
    texts: list[str],
    starts: dict[tuple[str, str], int],
    documents: list[ProvedDocument],
    report: BundleReport,
) -> None:
    """The values that identify and price a document (VIN, plate, phone, mileage, amounts,
    dates; in fields and line tables) appear on its pages as its replayed events have them.

    Free text and staff names are left out: text wraps unpredictably inside table cells, and
    names come from the staff list, which the file does not carry.
    """
    bodies = document_texts(texts, starts)
    for doc in documents:
        body = bodies.get((doc.kind, doc.number))
        if body is None or doc.replayed is None:
            continue
        missing = [
            label for label, value in printed_values(doc.replayed) if compact(value) not in body
        ]
        if missing:
            shown = "、".join(dict.fromkeys(missing))
            report.add(
                "printed_value_mismatch",
                f"{subject_label(doc.subject)}纸面上的{shown}与其事件不符（被改动或缺失）",
                f"{doc.kind} {doc.number}: the pages do not show its {shown} as its events have "
                "them",
                doc.last_event,
            )


def check_fees(texts: list[str], documents: list[ProvedDocument], report: BundleReport) -> None:
    """Only the return binding has a fee summary; it states the replayed claims' rows, count
    and total."""
    stated = printed_fees(texts)
    if report.binding != RETURN:
        if stated:
            report.add(
                "fees_unexpected",
                f"该文件不是退回服务中心卷，却在第 {stated[0][2]} 页印有服务费用汇总",
                f"page {stated[0][2]} shows a fee summary, which only the return binding has",
            )
        return
    replayed = [d.replayed for d in documents if d.replayed is not None]
    model = fee_summary([BoundDocument(get_kind(doc.kind), doc, ()) for doc in replayed]).model()
    expected = (model["count"], model["total"])
    if [(count, _money(total)) for count, total, _ in stated] != [expected]:
        shown = "；".join(f"第 {p} 页为 {c} 份、{t} 元" for c, t, p in stated)
        report.add(
            "fees_mismatch",
            f"服务费用汇总应为三包索赔单 {expected[0]} 份、合计 {expected[1]} 元，"
            + (f"PDF 中{shown}" if stated else "PDF 中未找到服务费用汇总"),
            f"the fee summary should state {expected[0]} claims, {expected[1]} in total; "
            f"the PDF states {stated or 'none'}",
        )
    for line in fee_lines_missing(texts, model):
        report.add(
            "fees_mismatch",
            f"服务费用汇总中缺少或改动了这一行：{line}",
            f"the fee summary lacks or alters the row {line}",
        )


# Values printed as one unbroken token, the same on every page they are on.
ATOMIC = (Integer, DecimalNumber, Date, DateTime, Vin, Plate, Phone)


def printed_values(doc: Document) -> list[tuple[str, str]]:
    """(label, text as printed) of the document's atomic values, line table cells included."""
    kind = get_kind(doc.kind)
    values = []
    for spec in kind.fields:
        value = doc.fields.get(spec.code)
        if isinstance(spec.type, Lines):
            for row in value or []:
                values += [
                    (
                        f"{spec.label}·{column.label}",
                        value_text(column.type, row.get(column.code), {}),
                    )
                    for column in spec.type.columns
                    if isinstance(column.type, ATOMIC)
                ]
        elif isinstance(spec.type, ATOMIC):
            values.append((spec.label, value_text(spec.type, value, {})))
    return values


def _money(text: str) -> str:
    return f"{Decimal(text.replace(',', '')):.2f}"
