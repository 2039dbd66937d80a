"""Who is calling and what the call works on: the caller, the archive, current read models."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer

from archive.bootstrap import Archive, ReadModels
from web.auth import UNSAFE_METHODS, archive_of, bearer_token
from web.security import CSRF_HEADER, csrf_ok, load_session

# A read of a projection waits at most this long for it to reach the log's head.
READ_WAIT_SECONDS = 2.0

# Declared for OpenAPI (the "Authorize" button of /docs); ``web.auth.api_user`` checks it.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="个人令牌 / personal API token: `archive staff token USERNAME --label …`",
)


async def api_csrf(request: Request) -> None:
    """A change made with the session cookie (the pages' own scripts) must carry the session's
    CSRF token in the X-CSRF-Token header; token calls carry no cookie to abuse. Unlike the
    pages' check this never reads a form, because uploads stream the body unread."""
    if request.method not in UNSAFE_METHODS or bearer_token(request) is not None:
        return
    if not csrf_ok(load_session(request), request.headers.get(CSRF_HEADER)):
        raise HTTPException(
            403,
            {
                "error": "csrf",
                "message_zh": "缺少或错误的 CSRF 令牌（X-CSRF-Token），请刷新页面后重试",
                "message_en": "missing or wrong X-CSRF-Token header",
            },
        )


def current_read_models(request: Request) -> ReadModels:
    """The read models, caught up with the log (within a bounded wait)."""
    models: ReadModels = request.app.state.read_models
    models.runner.wait_for(timeout=READ_WAIT_SECONDS)
    return models


ArchiveDep = Annotated[Archive, Depends(archive_of)]
ReadModelsDep = Annotated[ReadModels, Depends(current_read_models)]
