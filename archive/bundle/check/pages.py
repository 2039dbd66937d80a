"""The printed pages: numbered in order with none missing or added, each bound form's head
showing its content hash once, nothing else printed as a form, every form's cells as its
replayed events make them (``forms``), and the return binding's fee summary, cell by cell, as
the replayed claims make it."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from pypdf import PdfReader

from archive.bundle.bindings import RETURN, fee_summary
from archive.bundle.check.cells import fee_cells
from archive.bundle.check.documents import ProvedDocument
from archive.bundle.check.extract import PageText, read_pages
from archive.bundle.check.forms import (
    check_forms,
    compare_pages,
    read_print_facts,
    report_mismatches_zh,
    running_header,
)
from archive.bundle.check.report import BundleReport
from archive.bundle.check.scans import check_scans
from archive.bundle.front_matter import heading
from archive.bundle.printed import (
    FEES_HEADING,
    PRINTED_HASH_DIGITS,
    compact,
    misnumbered_pages,
    printed_heads,
)
from archive.integrity.findings import subject_label
from archive.kinds.registry import get_kind
from archive.queries.volumes import BoundDocument
from events.volume import MonthVolume
from projections.ledger import Subject

SHOWN_PAGES = 10  # page numbers listed in one message


def check_pages(
    stream: IO[bytes],
    manifest: dict[str, Any],
    documents: list[ProvedDocument],
    volume: MonthVolume | None,
    report: BundleReport,
    progress: Callable[[str, int, int], None],
    workers: int | None = None,
) -> None:
    """Every page read once (in worker processes when long), then every check of the pages."""
    pages = read_page_texts(stream, report, progress, workers)
    texts = [page.text for page in pages]
    check_page_numbers(texts, report)
    starts = check_printed(texts, documents, report)
    # A document's pages end where the next form begins, whether the manifest holds it or not.
    firsts = sorted({head.page for head in printed_heads(texts)[0]})
    fees = _fee_start(pages, firsts) if report.binding == RETURN else None
    ends = _ends(firsts, fees or len(pages) + 1)
    spans = {key: (start, ends[start]) for key, start in starts.items()}
    dealer = manifest.get("dealer") if isinstance(manifest.get("dealer"), str) else None
    facts = read_print_facts(manifest, report)
    if facts is not None:
        check_forms(pages, spans, documents, facts, dealer, report)
    check_fees(pages, fees, documents, volume, dealer, report)
    check_scans(PdfReader(stream), documents, starts, report)  # check/scans.py


def read_page_texts(
    stream: IO[bytes],
    report: BundleReport,
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
    workers: int | None = None,
) -> list[PageText]:
    """Every page's text objects, saying how far the reading got."""
    stream.seek(0)
    pages = read_pages(stream.read(), workers, lambda done, total: progress("pages", done, total))
    for number, page in enumerate(pages, start=1):
        if page.error is not None:
            report.add(
                "page_unreadable",
                f"PDF 第 {number} 页的文字无法读取（页面已损坏）",
                f"the text of page {number} cannot be read: {page.error}",
            )
    return pages


def _ends(firsts: list[int], end: int) -> dict[int, int]:
    """Each first page's end: the next first page, the last one ``end``."""
    return dict(zip(firsts, [*firsts[1:], end], strict=True))


def _fee_start(pages: list[PageText], firsts: list[int]) -> int | None:
    """The page (1-based) where the fee summary begins: after the last form, the first page
    whose text begins with its heading."""
    after = max(firsts, default=0)
    for number in range(after + 1, len(pages) + 1):
        fragments = [f for f in pages[number - 1].fragments if f.text.strip()]
        if fragments and compact(fragments[0].text) == FEES_HEADING:
            return number
    return None


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


def check_fees(
    pages: list[PageText],
    first: int | None,
    documents: list[ProvedDocument],
    volume: MonthVolume | None,
    dealer: str | None,
    report: BundleReport,
) -> None:
    """Only the return binding has a fee summary: its pages, from ``first`` to the end, show
    the replayed claims cell by cell, the submitted ones counted, the others listed apart."""
    if report.binding != RETURN:
        shown = [n for n, page in enumerate(pages, start=1) if FEES_HEADING in page.text]
        if any("服务费用合计" in pages[n - 1].text for n in shown):
            report.add(
                "fees_unexpected",
                f"该文件不是退回服务中心卷，却在第 {shown[0]} 页印有服务费用汇总",
                f"page {shown[0]} shows a fee summary, which only the return binding has",
            )
        return
    replayed = [d.replayed for d in documents if d.replayed is not None]
    model = fee_summary([BoundDocument(get_kind(doc.kind), doc, ()) for doc in replayed]).model()
    if first is None:
        report.add(
            "fees_mismatch",
            f"PDF 中未找到服务费用汇总（应为三包索赔单 {model['count']} 份、"
            f"合计 {model['total']} 元）",
            f"the PDF has no fee summary; it should state {model['count']} claims, "
            f"{model['total']} in total",
        )
        return
    if volume is None:
        return  # the volume did not replay (reported): its heading is not known
    title = heading(volume)
    header = running_header(dealer, f"{title} · {FEES_HEADING}")
    found = compare_pages(fee_cells(title, model), pages[first - 1 :], header, "服务费用汇总页眉")
    if found:
        report.add(
            "fees_mismatch",
            f"服务费用汇总与所装三包索赔单不符（应为已上报 {model['count']} 份、"
            f"合计 {model['total']} 元）：{report_mismatches_zh(found)}",
            f"the fee summary does not state the bound claims ({model['count']} submitted, "
            f"{model['total']} in total): {', '.join(m.label for m in found)}",
        )
