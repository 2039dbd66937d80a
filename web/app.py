"""The FastAPI application: pages, the JSON API, and what protects them.

While it serves, the projections follow the event log in a background thread.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from archive.bootstrap import Archive, open_archive, open_read_models
from archive.errors import ArchiveError
from web.api import install_api
from web.auth import LoginRequired, login_redirect, verify_csrf
from web.auth import router as auth_router
from web.errors import APOLOGY_ZH, error_response, page_message
from web.jobs import BundleJobs
from web.pages import page_routers
from web.security import LoginThrottle, SessionSigner, load_or_create_key
from web.templating import render

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # Everything comes from this server: scripts, styles, fonts, images.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(archive: Archive | None = None, follow_log: bool = True) -> FastAPI:
    archive = archive or open_archive()
    models = open_read_models(archive)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if follow_log:
            models.runner.start()
        try:
            yield
        finally:
            app.state.bundle_jobs.close()
            models.close()

    # /docs is served by install_api from local files: FastAPI's own loads Swagger UI from a CDN.
    app = FastAPI(
        title="经销商售后档案系统",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.archive = archive
    app.state.read_models = models
    app.state.session_signer = SessionSigner(load_or_create_key(archive.layout.session_key))
    app.state.login_throttle = LoginThrottle()
    app.state.bundle_jobs = BundleJobs(archive)
    app.mount("/static", StaticFiles(directory=str(files("templates") / "static")), "static")
    app.include_router(auth_router, include_in_schema=False)
    for router in page_routers:
        app.include_router(router, dependencies=[Depends(verify_csrf)], include_in_schema=False)
    install_api(app)
    _install_guards(app)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, object]:
        return {
            "ok": True,
            "events": archive.app.head(),
            "projections": [s.as_dict() for s in models.runner.status()],
        }

    return app


def _install_guards(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, error: LoginRequired) -> Response:
        return login_redirect(error.next_url)

    @app.exception_handler(ArchiveError)
    async def refused(request: Request, error: ArchiveError) -> Response:
        # Pages only: the API's routes (web.api.routing.ApiRoute) answer their own errors.
        return render(
            request, "error.html", {"message": page_message(error)}, status_code=error.http_status
        )

    # A request a page route cannot even read (a form field missing, a path parameter out of
    # range) comes from a script or a hand-made URL, not from our forms: answer as the API does.
    app.add_exception_handler(HTTPException, error_response)
    app.add_exception_handler(RequestValidationError, error_response)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        # The person sees an apology, never a stack trace; the log keeps the details.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>出错了</title><p>{APOLOGY_ZH}</p>",
            status_code=500,
        )
