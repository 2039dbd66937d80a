"""The FastAPI application: pages, the JSON API, and what protects them.

While it serves, the projections follow the event log in a background thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from archive.bootstrap import Archive, open_archive, open_read_models
from web.api import install_api
from web.auth import current_user, install_sessions, verify_csrf
from web.auth import router as auth_router
from web.guards import install_guards
from web.jobs import BundleJobs
from web.pages import page_routers
from web.scan_reading import ScanReader


def create_app(
    archive: Archive | None = None, follow_log: bool = True, read_scans: bool = False
) -> FastAPI:
    """The web app over ``archive``. ``read_scans``: read uploaded scans by OCR in the
    background (the server does; tests that upload many scans would only wait for it)."""
    archive = archive or open_archive()
    models = open_read_models(archive)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if follow_log:
            models.follow()
        try:
            yield
        finally:
            app.state.bundle_jobs.close()
            if app.state.scan_reader is not None:
                app.state.scan_reader.close()
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
    install_sessions(app, archive)  # sessions and the login throttle, in the database
    app.state.bundle_jobs = BundleJobs(archive)
    app.state.scan_reader = ScanReader(archive) if read_scans else None
    app.mount("/static", StaticFiles(directory=str(files("templates") / "static")), "static")
    app.include_router(auth_router, include_in_schema=False)
    for router in page_routers:
        app.include_router(router, dependencies=[Depends(verify_csrf)], include_in_schema=False)
    install_api(app)
    install_guards(app)

    @app.get("/healthz", include_in_schema=False)
    def health(request: Request) -> dict[str, object]:
        # A monitor needs only "ok"; how much the archive holds is for staff to know.
        if current_user(request) is None:
            return {"ok": True}
        return {
            "ok": True,
            "events": archive.app.head(),
            "projections": [s.as_dict() for s in models.runner.status()],
        }

    return app


def create_server_app() -> FastAPI:
    """What ``archive serve`` runs: the app over ``$ARCHIVE_HOME``, reading scans as they come."""
    return create_app(read_scans=True)
