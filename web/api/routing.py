"""What every call of the JSON API shares: bodies read within limits, errors as JSON, and
writes visible to the next read.

The API's routes use :class:`ApiRoute`, which reads a JSON body by the edge's rules
(``web.api.jsonbody``) and turns an error into its JSON answer (:func:`web.errors.
error_response`) right where it happens, so no stack trace reaches a client whichever app
mounts the router. What happens before a route is chosen (no such address, a wrong method)
is answered by the app (``web.guards``), in the same JSON under ``/api/``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from pydantic import BaseModel

from web.api.jsonbody import MAX_JSON_BYTES, parse_json, too_large
from web.auth import UNSAFE_METHODS
from web.errors import error_response

# A write waits this long for the read models, so that a search right after it finds it.
SETTLE_SECONDS = 2.0


class Problem(BaseModel):
    """One thing to fix: the field (empty for the request as a whole) and what is wrong."""

    field: str
    message_zh: str
    message_en: str
    line: int | None = None  # CSV imports: the line of the file


class ErrorBody(BaseModel):
    """Every error answer: a stable code for scripts, messages for people, field problems."""

    error: str
    message_zh: str
    message_en: str
    problems: list[Problem] = []


def settle(request: Request) -> None:
    """Let the projections catch up with a write just made (bounded: the write stands anyway)."""
    request.app.state.read_models.runner.wait_for(timeout=SETTLE_SECONDS)


class ApiRequest(Request):
    """A request whose JSON body is read within the edge's limits (``web.api.jsonbody``).

    Starlette caches what it read in ``_body`` and ``_json``; FastAPI's own reading of the body
    then finds it there, so the body is read and parsed once, by these rules."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            data = bytearray()
            async for chunk in self.stream():
                data += chunk
                if len(data) > MAX_JSON_BYTES:  # stop reading: the rest is never held
                    raise too_large()
            self._body = bytes(data)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


def json_body_expected(request: Request) -> bool:
    """Whether FastAPI would read this request's body as JSON (no content type counts)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.method in UNSAFE_METHODS and (
        not content_type or content_type == "application/json" or content_type.endswith("+json")
    )


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        # Routes that stream their body (uploads, CSV imports) declare none and read it themselves.
        reads_json = self.body_field is not None

        async def handler(request: Request) -> Response:
            request = ApiRequest(request.scope, request.receive)
            try:
                if reads_json and json_body_expected(request) and await request.body():
                    # Read here, where a refusal becomes its JSON answer; FastAPI would turn
                    # any error of reading into an English "There was an error parsing the body".
                    await request.json()
                response = await handle(request)
            except Exception as error:
                return error_response(request, error)
            if request.method in UNSAFE_METHODS and response.status_code < 400:
                await run_in_threadpool(settle, request)
            return response

        return handler
