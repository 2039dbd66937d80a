"""The FastAPI application. For now: a status page and a health check; pages come later."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from archive.bootstrap import Archive, open_archive
from archive.kinds.registry import KINDS

TEMPLATES = Jinja2Templates(directory=str(files("templates") / "pages"))


def create_app(archive: Archive | None = None) -> FastAPI:
    archive = archive or open_archive()
    app = FastAPI(title="经销商售后档案系统", version="0.1.0")

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
            },
        )

    @app.get("/healthz")
    def health() -> dict[str, object]:
        return {"ok": True, "events": archive.app.head()}

    return app
