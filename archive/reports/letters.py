"""定期保养邀请信 and 首保感谢信 as one PDF: a letter a page, for the cars the maintenance list
says are due in a month and for the month's first-service vouchers.

The letters are made from the maintenance report itself (``archive.reports.maintenance``), so
the letters printed are the rows of the list on the page. Printed in the bundles' print style
and signed by the archive like every report's PDF.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from archive.bundle.render import PDF_VARIANT
from archive.bundle.templates import environment
from archive.contacts.rules import NO_INVITATION
from archive.errors import BadInput
from archive.reports.maintenance import build
from archive.reports.model import Period, Report, ReportSource
from archive.reports.periods import period_title

if TYPE_CHECKING:
    from archive.bootstrap import Archive, ReadModels

TEMPLATE = "print/letters.html"
LETTERS_REASON = "定期保养邀请信和首保感谢信，名单由档案计算"


def _day(value: Any) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.year}年{value.month}月{value.day}日" if isinstance(value, date) else "—"


def letters_model(report: Report) -> dict[str, Any]:
    """What the letters print, from the month's maintenance report."""
    tables = {t.key: t.rows for t in report.tables}
    invitations = [
        {**row, "due_text": _day(row["due"]), "last_visit_text": _day(row["last_visit"])}
        for row in tables["due"]
        if row["outcome_code"] not in NO_INVITATION
    ]
    thanks = [{**row, "day_text": _day(row["day"])} for row in tables["letters"]]
    return {
        "dealer": report.dealer,
        "month_title": period_title(report.period),
        "invitations": invitations,
        "thanks": thanks,
    }


def letters_report(source: ReportSource, period: Period) -> Report:
    if period.kind != "month":
        raise BadInput(
            "letters_month_only",
            "邀请信和感谢信按月打印，请给出月份，如 2026-12",
            "the letters are printed for one month",
        )
    return build(source, period)


def letters_html(report: Report, source: ReportSource) -> str:
    stamp = report.generated_at.astimezone(source.archive.settings.tz).replace(microsecond=0)
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            stamp=stamp.isoformat(),
            day=f"{stamp.year}年{stamp.month}月{stamp.day}日",
            **letters_model(report),
        )
    )


def letters_pdf(source: ReportSource, period: Period, sign: bool = True) -> tuple[bytes, int]:
    """The month's letters as PDF bytes (signed unless ``sign`` is false) and how many."""
    import weasyprint

    from archive.bundle.signing import sign_pdf
    from archive.integrity.certificate import archive_certificates

    report = letters_report(source, period)
    model = letters_model(report)
    pdf: bytes = weasyprint.HTML(string=letters_html(report, source)).write_pdf(
        pdf_variant=PDF_VARIANT
    )
    count = len(model["invitations"]) + len(model["thanks"])
    if not sign:
        return pdf, count
    certificates = archive_certificates(source.archive)
    return sign_pdf(pdf, certificates, report.generated_at, LETTERS_REASON), count


def month_letters(archive: Archive, models: ReadModels, month: str) -> tuple[bytes, int]:
    """The letters for ``month`` (as typed: checked like the report's period), once the read
    models have caught up with the log."""
    from archive.reports.run import CATCH_UP_SECONDS, ask

    asked = ask(
        "maintenance", {"month": month}, archive.now().astimezone(archive.settings.tz).date()
    )
    models.runner.wait_for(timeout=CATCH_UP_SECONDS)
    return letters_pdf(ReportSource(archive, models), asked.period)


def letters_headers(month: str) -> dict[str, str]:
    from archive.reports.run import attachment_headers

    return attachment_headers(f"letters-{month}.pdf", "pdf")
