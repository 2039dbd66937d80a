"""The FastAPI application. For now: a status page and a health check; pages come later.

While it serves, the projections follow the event log in a background thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from archive.bootstrap import Archive, open_archive
from archive.kinds.registry import KINDS
from archive.read_models import open_read_models

TEMPLATES = Jinja2Templates(directory=str(files("templates") / "pages"))


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
            models.close()

    app = FastAPI(title="经销商售后档案系统", version="0.1.0", lifespan=lifespan)
    app.state.archive = archive
    app.state.read_models = models

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        people = archive.staff.refresh()
        return TEMPLATES.TemplateResponse(
            request,
            "home.html",
            {
                "events": archive.app.head(),
                "staff_count": len(people),
                "kinds": KINDS.values(),
                "dealer": archive.settings.dealer_name,
                "projections": models.runner.status(),
            },
        )

    @app.get("/healthz")
    def health() -> dict[str, object]:
        return {
            "ok": True,
            "events": archive.app.head(),
            "projections": [s.as_dict() for s in models.runner.status()],
        }

    return app
