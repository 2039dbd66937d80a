"""The HTML pages, one router per area; every change they accept needs the CSRF token."""

from web.pages import documents, filing, months, overview, staff, verify

page_routers = [
    overview.router,
    filing.router,
    documents.router,
    months.router,
    staff.router,
    verify.router,
]
