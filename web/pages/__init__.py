"""The HTML pages, one router per area; every change they accept needs the CSRF token."""

from web.pages import daily_report, documents, filing, months, overview, staff, verify

page_routers = [
    overview.router,
    filing.router,
    daily_report.router,
    documents.router,
    months.router,
    staff.router,
    verify.router,
]
