"""Driving the ASGI app in-process with httpx, keeping cookies like a browser does."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx


class WebClient:
    def __init__(self, app: Any, owns_app: bool = True) -> None:
        self.app = app
        self.owns_app = owns_app  # a second browser session on the same app does not
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://archive.test"
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def csrf(self, page: str = "/login") -> str:
        """The CSRF token a page carries in its forms."""
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.get(page).text)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def login(self, username: str, password: str) -> httpx.Response:
        token = self.csrf()
        return self.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        )

    def close(self) -> None:
        """Close the client and, as the app's shutdown would, its read models."""
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        models = getattr(self.app.state, "read_models", None)
        if models is not None and self.owns_app:
            models.close()
