"""What is noteworthy about a document, as flag codes: one rule for the search index, the
worklists and the case file (``archive.queries.search`` words them in Chinese).

Most flags follow from the document's own events. One depends on today as well: a claim not
submitted is late once its deadline has passed, without any event; it carries
``submission_due`` and :func:`overdue` says, for a given day, whether that makes it late.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from events.document import Document
from projections.catalog import KindCatalog

SUBMISSION_DUE = "submission_due"
LATE_SUBMISSION = "late_submission"
# What a document's recorded link states say (``Document.links``), as flags.
LINK_FLAGS = {
    "unlinked": "unlinked",
    "mileage_differs": "mileage_mismatch",
    "further": "further_claim",
}


def document_flags(doc: Document, catalog: KindCatalog, tz: tzinfo) -> list[str]:
    flags = []
    if doc.amendment_count:
        flags.append("amended")
        if any(s.version < doc.content_version for s in doc.signatures):
            flags.append("amended_after_signature")
    if doc.voided:
        flags.append("voided")
    if doc.submission:
        flags.append("submitted")
        if doc.submission.get("late"):
            flags.append(LATE_SUBMISSION)
    elif doc.voided is None and doc.kind in catalog.submit_days():
        flags.append(SUBMISSION_DUE)
    if doc.withdrawn_submissions:
        flags.append("submission_withdrawn")
    if any(s.on_behalf_of for s in doc.signatures):
        flags.append("on_behalf")
    for link in doc.links.values():
        found = [LINK_FLAGS.get(link.get("state", ""))]
        if link.get("further"):  # a further claim whose mileage differs too: state says mileage
            found.append("further_claim")
        flags.extend(f for f in found if f and f not in flags)
    business_date = doc.fields.get("business_date")
    if isinstance(business_date, date):
        filed_on = doc.filed_at.astimezone(tz).date()
        if (filed_on - business_date).days > catalog.filing_grace_days(doc.kind):
            flags.append("late")
    return flags


def overdue(business_date: date, days: int, today: date) -> bool:
    """Whether a document due ``days`` after its business date is past due today (due on
    the day itself is not yet late)."""
    return business_date + timedelta(days=days) < today


def with_overdue(
    flags: tuple[str, ...], kind: str, business_date: str, catalog: KindCatalog, today: date
) -> tuple[str, ...]:
    """``flags`` with ``late_submission`` added when a due submission is overdue today."""
    days = catalog.submit_days().get(kind)
    if SUBMISSION_DUE not in flags or days is None or not business_date:
        return flags
    if not overdue(date.fromisoformat(business_date), days, today):
        return flags
    return (*flags, LATE_SUBMISSION)
