"""What every answer of the app gets, whatever produced it: the security headers, no caching of
personal data, and one translation of every refusal and failure (``web.errors``) into a
Chinese HTML page for people or a JSON body under ``/api/``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive.errors import ArchiveError
from web.auth import LoginRequired, login_redirect
from web.errors import APOLOGY_ZH, error_response, page_refusal, request_inputs
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
# The app's own style sheets, scripts and fonts: the same for everyone, so a browser may keep
# them. Everything else (pages, PDFs, scans, API answers) may hold a customer's personal data
# and the counter's PC is shared: never stored.
CACHEABLE = ("/static/", "/docs-static/")
# Addresses that scripts call, not people: their refusals are JSON.
MACHINE_PATHS = ("/api/", "/healthz", "/openapi.json")
# Starlette reads a URL-encoded form whole into memory, with no limit of its own (multipart
# parts have one; uploads and JSON bodies are limited where they are read). The largest form
# of the counter, a claim with its line tables, is a few KB.
MAX_FORM_BYTES = 1024 * 1024


def headers_for(path: str, status: int = 200) -> dict[str, str]:
    # Only the files themselves: a refusal under /static/ is a page naming who is logged in.
    if path.startswith(CACHEABLE) and status < 400:
        return SECURITY_HEADERS
    return {**SECURITY_HEADERS, "Cache-Control": "no-store"}


class SecurityHeaders:
    """Adds :func:`headers_for` to every answer (a pure ASGI middleware: it also sees
    streamed files, and nothing of the request's handling runs inside it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(scope["path"], message["status"]).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FormLimit:
    """Stops reading a URL-encoded form past :data:`MAX_FORM_BYTES`: the read raises a 413,
    answered like any other refusal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = (
            Headers(scope=scope).get("content-type", "") if scope["type"] == "http" else ""
        )
        if not content_type.startswith("application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        seen = 0

        async def receive_within_limit() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_FORM_BYTES:
                raise HTTPException(413, f"the form exceeds {MAX_FORM_BYTES} bytes")
            return message

        await self.app(scope, receive_within_limit, send)


def wants_json(request: Request) -> bool:
    """JSON for the API and for scripts that ask for it; an HTML page for a browser."""
    if request.url.path.startswith(MACHINE_PATHS):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def allowed_methods(request: Request) -> str | None:
    """Every method some route takes at this address. Starlette's 405 names only the first
    route whose path matched (``Allow: GET`` where another route takes the PATCH). Each method
    is tried as the router would (FastAPI nests included routers); mounted apps (static
    files) answer their own 405 and are left out."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    methods = {
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    }
    return ", ".join(sorted(methods)) or None


def refusal(request: Request, error: Exception) -> Response:
    """A refusal (the archive's, or a request the framework could not route or read)."""
    if isinstance(error, HTTPException) and error.status_code == 405:
        allowed = allowed_methods(request)
        if allowed:
            error = HTTPException(405, error.detail, headers={"Allow": allowed})
    if wants_json(request):
        return error_response(request, error)
    status, message = page_refusal(error, request_inputs(request))
    context = {"message": message, "status": status}
    response = render(request, "error.html", context, status_code=status)
    if isinstance(error, HTTPException) and error.headers:
        response.headers.update(error.headers)
    return response


def failure(request: Request, error: Exception) -> Response:
    """An error nobody foresaw. It is handled outside every middleware (Starlette's
    ServerErrorMiddleware), so the headers are added here. Never a stack trace: the log
    keeps the details."""
    if wants_json(request):
        response = error_response(request, error)  # logs it
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        try:
            context = {"message": APOLOGY_ZH, "status": 500}
            response = render(request, "error.html", context, status_code=500)
        except Exception:  # the page needs the staff directory, which may be what failed
            response = HTMLResponse(
                f"<!doctype html><meta charset=utf-8><title>出错了</title><p>{APOLOGY_ZH}</p>",
                status_code=500,
            )
    response.headers.update(headers_for(request.url.path, response.status_code))
    return response


def install_guards(app: FastAPI) -> None:
    app.add_middleware(FormLimit)
    app.add_middleware(SecurityHeaders)  # added last: the outermost, it sees every answer

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, error: LoginRequired) -> Response:
        return login_redirect(error.next_url)

    # Pages mostly; the API's routes (web.api.routing.ApiRoute) answer their own errors, and
    # what happens before a route is chosen (no such address, wrong method) is answered here.
    for kind in (ArchiveError, HTTPException, RequestValidationError):
        app.add_exception_handler(kind, refusal)
    app.add_exception_handler(Exception, failure)
