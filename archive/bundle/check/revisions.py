"""Nothing after the signature, and no mark on a page that the archive did not put there.

A PDF can be changed without touching the signed bytes: an incremental update appended after
``%%EOF`` may add a white box over an amount, a box with other digits, or a free-text note, and
every reader shows the page with them. Such a file is refused here for three reasons, each named:

- bytes after the end of the signed range (``bytes_after_signature``), and among them any
  revision (``revision_after_signature``, with what it adds or changes);
- any annotation on any page other than the archive's own signature widget (invisible: zero
  size, no appearance), named by page and kind; one added after the signed revision is
  ``annotation_after_signature``, one inside it ``annotation_unexpected`` (the archive makes no
  others: no links, no notes, no stamps).
"""

from __future__ import annotations

from typing import IO, Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from archive.bundle.check.report import BundleReport
from archive.bundle.check.signature import SignedFile
from archive.bundle.signing import SIGNATURE_FIELD

SHOWN = 10  # annotations named one by one; the rest are counted
MAX_PAGE_NODES = 1_000_000  # a page tree that never ends is a damaged file, not a long one


def check_revisions(stream: IO[bytes], signed: SignedFile, report: BundleReport) -> None:
    size = stream.seek(0, 2)
    added = signed.reader.xrefs.total_revisions - 1 - signed.revision
    if added > 0:
        report.add(
            "revision_after_signature",
            f"PDF 在签名之后又追加了 {added} 次修改（增量更新）：阅读器显示的是修改后的内容，"
            "不是本档案签名的文件",
            f"{added} incremental update(s) were appended after the signed revision: readers "
            "show the changed file, not the one the archive signed",
        )
    elif size > signed.signed_end:
        report.add(
            "bytes_after_signature",
            f"PDF 签名范围之后还多出 {size - signed.signed_end} 个字节",
            f"{size - signed.signed_end} bytes follow the signed range",
        )


def check_annotations(signed: SignedFile, report: BundleReport) -> None:
    """Every annotation on every page (of the file as readers show it) must be the archive's
    signature widget."""
    reader = signed.reader
    foreign: list[tuple[int, str, bool]] = []  # page, subtype, added after the signature
    for number, page in enumerate(_pages(reader), start=1):
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        annotations = annotations.get_object()
        if not isinstance(annotations, list):
            foreign.append((number, "?", False))
            continue
        for reference in annotations:
            annotation = reference.get_object()
            if _is_our_widget(annotation):
                continue
            subtype = str(annotation.get("/Subtype", "?")) if isinstance(annotation, dict) else "?"
            foreign.append((number, subtype, _added_after(reader, reference, signed)))
    for after in (True, False):
        found = [(page, subtype) for page, subtype, late in foreign if late is after]
        if found:
            _report(found, after, report)


def _report(found: list[tuple[int, str]], after: bool, report: BundleReport) -> None:
    shown = "、".join(f"第 {page} 页 {subtype}" for page, subtype in found[:SHOWN])
    more = f"等 {len(found)} 处" if len(found) > SHOWN else ""
    if after:
        report.add(
            "annotation_after_signature",
            f"PDF 签名之后加上了批注（覆盖在页面上的框、文字或图章）：{shown}{more}",
            f"annotations were added after the signature (boxes, text or stamps drawn over the "
            f"page): {len(found)}, first {found[0]}",
        )
    else:
        report.add(
            "annotation_unexpected",
            f"PDF 中有本档案不会生成的批注：{shown}{more}",
            f"the PDF holds annotations the archive never makes: {len(found)}, first {found[0]}",
        )


def _is_our_widget(annotation: Any) -> bool:
    """The archive's invisible signature field: a widget of zero size with no appearance."""
    if not isinstance(annotation, dict):
        return False
    rect = annotation.get("/Rect")
    return (
        annotation.get("/Subtype") == "/Widget"
        and annotation.get("/FT") == "/Sig"
        and annotation.get("/T") == SIGNATURE_FIELD
        and "/AP" not in annotation
        and isinstance(rect, list)
        and all(float(n) == 0 for n in rect)
    )


def _added_after(reader: PdfFileReader, reference: Any, signed: SignedFile) -> bool:
    if not isinstance(reference, generic.IndirectObject):
        return False
    try:
        return reader.xrefs.get_introducing_revision(reference.reference) > signed.revision
    except KeyError:
        return False


def _pages(reader: PdfFileReader) -> list[generic.DictionaryObject]:
    """The pages in order, by walking the page tree (each node once, however it is linked)."""
    pages, seen = [], set()
    stack = [reader.root.raw_get("/Pages")]
    while stack and len(seen) < MAX_PAGE_NODES:
        reference = stack.pop()
        if isinstance(reference, generic.IndirectObject):
            if reference.idnum in seen:
                continue
            seen.add(reference.idnum)
        node = reference.get_object()
        if not isinstance(node, generic.DictionaryObject):
            continue
        if node.get("/Type") == "/Pages":
            kids = node.raw_get("/Kids") if "/Kids" in node else []
            kids = kids.get_object() if isinstance(kids, generic.IndirectObject) else kids
            stack.extend(reversed(list(kids)))
        else:
            pages.append(node)
    return pages
