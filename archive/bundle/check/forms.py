"""Each bound form's pages compared with its replayed events, cell by cell.

A document's pages run from its head to the next document's (or the fee summary): its form,
then its scans in the order attached, a PDF scan as its own pages (checked by the scans check,
not here), any other scan on a page of its own with a caption. The form is laid out again
(``archive.bundle.layout``) from the replayed events and the manifest's print facts, and every
cell of it must be what the pages draw (``matching``). Every page made from a template ends with
its header (the dealer, the document) and its page number; the header is checked here, the
number by ``check_page_numbers``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from archive.bundle.check.cells import Cell, form_cells, scan_page_cells
from archive.bundle.check.documents import ProvedDocument
from archive.bundle.check.extract import Fragment, PageText
from archive.bundle.check.matching import Mismatch, compare
from archive.bundle.check.report import BundleReport
from archive.bundle.layout import Layout
from archive.bundle.print_facts import PrintFacts
from archive.bundle.printed import compact
from archive.integrity.findings import subject_label
from archive.kinds.registry import get_kind

_PAGE_NUMBER = re.compile(r"第 ?\d+ ?页 ?/ ?共 ?\d+ ?页")
SHOWN = 5  # mismatches spelled out in one finding


def read_print_facts(manifest: dict[str, Any], report: BundleReport) -> PrintFacts | None:
    try:
        return PrintFacts.from_dict(manifest.get("print_facts"))
    except ValueError as error:
        report.add(
            "print_facts_missing",
            "装订清单缺少排版信息（人员姓名、时区、文件），无法逐格核对纸面内容；"
            "文件可能由旧版本制作或被改动，请用当前版本重新制作",
            f"the manifest's print facts are missing or malformed ({error}): the pages "
            "cannot be compared with the events cell by cell",
        )
        return None


def page_body(page: PageText, header: Sequence[str | None]) -> tuple[list[Fragment], list[str]]:
    """A template page's text objects without its header and page number, and the header it
    shows when that is not ``header`` (compacted; None: a part not known, not compared)."""
    fragments = [f for f in page.fragments if f.text.strip() or not f.visible]
    if fragments and _PAGE_NUMBER.fullmatch(fragments[-1].text.strip()):
        fragments.pop()
    shown = [compact(f.text) for f in fragments[len(fragments) - len(header) :]]
    body = fragments[: len(fragments) - len(header)]
    agrees = len(shown) == len(header) and all(
        want is None or compact(want) == text for want, text in zip(header, shown, strict=True)
    )
    return body, ([] if agrees else shown)


def check_forms(
    pages: list[PageText],
    spans: dict[tuple[str, str], tuple[int, int]],
    documents: list[ProvedDocument],
    facts: PrintFacts,
    dealer: str | None,
    report: BundleReport,
) -> None:
    """``spans``: for each document printed once, its first page and the page after its last
    (1-based)."""
    layout = Layout.from_facts(facts)
    for doc in documents:
        span = spans.get((doc.kind, doc.number))
        if span is None or doc.replayed is None:
            continue  # not printed (reported), or not replayed (reported)
        model = layout.document(get_kind(doc.kind), doc.replayed, doc.events).model
        mismatches = _check_document(model, pages[span[0] - 1 : span[1] - 1], dealer)
        if isinstance(mismatches, str):
            report.add(
                "printed_pages_mismatch",
                f"{subject_label(doc.subject)}在 PDF 中占 {span[1] - span[0]} 页，{mismatches}",
                f"{doc.kind} {doc.number} takes {span[1] - span[0]} pages: its form and scans "
                "do not fit them",
                doc.last_event,
            )
        elif mismatches:
            report_mismatches(report, doc, mismatches)


def report_mismatches_zh(found: list[Mismatch]) -> str:
    return "；".join(m.zh() for m in found[:SHOWN]) + ("……" if len(found) > SHOWN else "")


def report_mismatches(report: BundleReport, doc: ProvedDocument, found: list[Mismatch]) -> None:
    shown = report_mismatches_zh(found)
    labels = ", ".join(m.label for m in found)
    report.add(
        "printed_cell_mismatch",
        f"{subject_label(doc.subject)}纸面上的内容与其事件不符（被改动、添加或缺失）：{shown}",
        f"{doc.kind} {doc.number}: the pages do not show these cells as its events have them: "
        f"{labels}",
        doc.last_event,
    )


def _check_document(
    model: dict[str, Any], pages: list[PageText], dealer: str | None
) -> list[Mismatch] | str:
    """The form's mismatches, or why its pages cannot be the form and its scans."""
    scans = model["scans"]
    scan_pages = sum(s["pages"] for s in scans if s["placement"] == "pdf")
    own_pages = sum(1 for s in scans if s["placement"] != "pdf")
    form_pages = len(pages) - scan_pages - own_pages
    if form_pages < 1:
        return f"少于其表单与 {len(scans)} 份扫描件（{scan_pages + own_pages} 页）所需的页数"
    header = running_header(dealer, f"{model['kind_label']} {model['number']}")
    found = compare_pages(form_cells(model), pages[:form_pages], header, "表单页眉")
    page = form_pages
    for scan in scans:
        if scan["placement"] == "pdf":
            page += scan["pages"]
            continue
        cells = scan_page_cells(model, scan)
        found += compare_pages(
            cells, pages[page : page + 1], header, f"扫描件 {scan['position']}页眉"
        )
        page += 1
    return found


def running_header(dealer: str | None, running: str) -> list[str | None]:
    """What a template page's header draws: the dealer (None: not known, so not compared;
    nothing when the dealer has no name) and the document or section."""
    return [running] if dealer == "" else [dealer, running]


def compare_pages(
    cells: list[Cell], pages: Sequence[PageText], header: Sequence[str | None], header_label: str
) -> list[Mismatch]:
    """The cells' mismatches on these template pages, their headers included."""
    bodies, found = [], []
    for page in pages:
        if page.error is not None:
            continue  # reported as unreadable
        body, wrong = page_body(page, header)
        bodies.append(body)
        if wrong:
            want = "".join(compact(h) if h is not None else "…" for h in header)
            found.append(Mismatch(header_label, want, "".join(wrong)))
    return found + compare(cells, bodies)
