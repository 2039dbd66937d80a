"""A report as a PDF: the print template ``print/report.html`` in the bundles' print style
(A4, Noto Sans CJK), PDF/A-3b like the bundles, signed with the archive's key (PAdES B-B,
``archive.bundle.signing``) so a printed report can be told from an edited one.

Deterministic: the PDF's dates and the signing time are the report's ``generated_at``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.bundle.render import PDF_VARIANT
from archive.bundle.templates import environment
from archive.reports.display import report_view
from archive.reports.model import Report

if TYPE_CHECKING:
    from archive.bootstrap import Archive

REPORT_REASON = "报表打印，数字由档案计算"
TEMPLATE = "print/report.html"


def report_html(report: Report, archive: Archive) -> str:
    stamp = report.generated_at.astimezone(archive.settings.tz).replace(microsecond=0)
    view = report_view(report, archive.settings.tz)
    return environment().get_template(TEMPLATE).render(stamp=stamp.isoformat(), **view)


def report_pdf(report: Report, archive: Archive, sign: bool = True) -> bytes:
    """The report's PDF bytes, signed by the archive unless ``sign`` is false."""
    import weasyprint

    from archive.bundle.signing import sign_pdf
    from archive.integrity.certificate import archive_certificates

    pdf: bytes = weasyprint.HTML(string=report_html(report, archive)).write_pdf(
        pdf_variant=PDF_VARIANT
    )
    if not sign:
        return pdf
    return sign_pdf(pdf, archive_certificates(archive), report.generated_at, REPORT_REASON)
