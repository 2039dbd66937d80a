"""The HTML pages, one router per area; every change they accept needs the CSRF token."""

from web.pages import (
    contacts,
    customers,
    daily_report,
    documents,
    fees,
    filing,
    months,
    overview,
    reports,
    staff,
    verify,
)

page_routers = [
    overview.router,
    filing.router,
    daily_report.router,
    documents.router,
    customers.router,
    months.router,
    reports.router,
    fees.router,
    contacts.router,
    staff.router,
    verify.router,
]
