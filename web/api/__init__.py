"""The JSON API under /api/v1: what the ``archive`` command does, for the DMS and scripts.

Callers authenticate with a personal token (``Authorization: Bearer …``); a browser session
also works, with the X-CSRF-Token header on changes. Every change goes through
``archive.commands``, so the write path's rules and permission table apply unchanged; errors
come back as JSON (see ``web.api.routing``).

Mount with ``install_api(app)`` (or ``app.include_router(router)`` and ``install_docs(app)``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Security

from web.api import (
    cases,
    contacts,
    documents,
    fees,
    imports,
    offsite,
    reading,
    reports,
    scans,
    staff,
)
from web.api.deps import api_csrf, bearer_scheme
from web.api.docs import install_docs
from web.api.routing import ErrorBody
from web.auth import api_user

ERRORS = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "no valid personal token"),
        (403, "not permitted (the reason is in the messages)"),
        (404, "no such document, kind, scan or staff member"),
        (409, "stale version, duplicate number, or the document's state refuses the change"),
        (422, "invalid input: each problem names its field"),
    )
}

# Authentication first (401), then CSRF for cookie sessions (403), then the endpoint.
router = APIRouter(
    prefix="/api/v1",
    dependencies=[Security(bearer_scheme), Depends(api_user), Depends(api_csrf)],
    responses=ERRORS,
)
for module in (reading, cases, documents, scans, offsite, imports, staff, reports, fees, contacts):
    router.include_router(module.router)


def install_api(app: FastAPI) -> None:
    """Mount the API and its self-contained documentation on ``app``."""
    app.include_router(router)
    install_docs(app)


__all__ = ["install_api", "install_docs", "router"]
