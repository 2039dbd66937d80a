"""服务费用通知: the one-page notice to the station head (站长) asking for the month's service-fee
invoice, in the print style of the bundles, signed by the archive like every report's PDF.

Its figures are the service-fee report's for the month (``archive.reports.service_fee``), so
the notice, the report page and its spreadsheet say the same amount.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive.bundle.render import PDF_VARIANT
from archive.bundle.templates import environment
from archive.errors import BadInput
from archive.reports.display import shown
from archive.reports.model import Period, Report, ReportSource
from archive.reports.money_words import amount_in_capitals
from archive.reports.periods import period_title
from archive.reports.service_fee import build

if TYPE_CHECKING:
    from archive.bootstrap import Archive, ReadModels

TEMPLATE = "print/fee_notice.html"
NOTICE_REASON = "服务费用通知，金额由档案计算"


def notice_model(report: Report) -> dict[str, Any]:
    """What the notice prints, from the month's service-fee report."""
    figures = {f.key: f.value for f in report.figures}
    invoice = report.tables[1].rows[0]
    total = figures["total_fee"]
    return {
        "dealer": report.dealer,
        "month": report.period.label,
        "month_title": period_title(report.period),
        "claims": figures["claims"],
        "unsubmitted": figures["unsubmitted"],
        "total": shown(total, "money"),
        "capitals": amount_in_capitals(total),
        "invoice": {
            k: shown(v, "money" if k in ("requested", "received") else "text")
            for k, v in invoice.items()
        },
    }


def notice_report(source: ReportSource, period: Period) -> Report:
    if period.kind != "month":
        raise BadInput(
            "notice_month_only",
            "服务费用通知按月开具，请给出月份，如 2026-11",
            "the fee notice is for one month",
        )
    return build(source, period)


def notice_html(report: Report, source: ReportSource) -> str:
    tz = source.archive.settings.tz
    stamp = report.generated_at.astimezone(tz).replace(microsecond=0)
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            stamp=stamp.isoformat(),
            day=f"{stamp.year}年{stamp.month}月{stamp.day}日",
            **notice_model(report),
        )
    )


def notice_pdf(source: ReportSource, period: Period, sign: bool = True) -> bytes:
    """The notice for ``period`` (a month) as PDF bytes, signed unless ``sign`` is false."""
    import weasyprint

    from archive.bundle.signing import sign_pdf
    from archive.integrity.certificate import archive_certificates

    report = notice_report(source, period)
    pdf: bytes = weasyprint.HTML(string=notice_html(report, source)).write_pdf(
        pdf_variant=PDF_VARIANT
    )
    if not sign:
        return pdf
    archive = source.archive
    return sign_pdf(pdf, archive_certificates(archive), report.generated_at, NOTICE_REASON)


def month_notice(archive: Archive, models: ReadModels, month: str) -> bytes:
    """The notice for ``month`` (as typed: checked like the report's period), once the read
    models have caught up with the log."""
    from archive.reports.run import CATCH_UP_SECONDS, ask

    asked = ask(
        "service-fee", {"month": month}, archive.now().astimezone(archive.settings.tz).date()
    )
    models.runner.wait_for(timeout=CATCH_UP_SECONDS)
    return notice_pdf(ReportSource(archive, models), asked.period)


def notice_headers(month: str) -> dict[str, str]:
    return {
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="fee-notice-{month}.pdf"',
    }
