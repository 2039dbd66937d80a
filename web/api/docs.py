"""The API's documentation at /docs, served entirely by this app.

FastAPI's own /docs and /redoc pages load their scripts from a CDN, which a dealership's closed
network cannot reach and which the project forbids. Swagger UI's files come from the
``fastapi-offline`` package instead, and the page has no inline script: the app's Content
Security Policy (``default-src 'self'``) would block one, so the start-up script is a file too.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = "/docs-static"
SWAGGER_FILES = files("fastapi_offline") / "static"

# Reads the spec's address from the page; no validator badge (it would call swagger.io).
INIT_JS = """\
"use strict";
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def docs_page(title: str, openapi_url: str, static: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{escape(title)} · API</title>
<link rel="icon" type="image/png" href="{static}/favicon.png">
<link rel="stylesheet" href="{static}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, path: str = "/docs") -> None:
    """Serve /docs from local files, and drop FastAPI's CDN pages should the app have them."""
    cdn_pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in cdn_pages
    ]
    app.docs_url = app.redoc_url = None

    @app.get(f"{STATIC}/init.js", include_in_schema=False)
    def swagger_init() -> Response:
        return Response(INIT_JS, media_type="text/javascript")

    @app.get(path, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(docs_page(app.title, f"{root}{app.openapi_url}", f"{root}{STATIC}"))

    # After the init.js route, which would otherwise fall inside this mount.
    app.mount(STATIC, StaticFiles(directory=str(SWAGGER_FILES)), name="docs-static")
