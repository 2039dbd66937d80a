"""Sessions kept in the database, and CSRF tokens.

The cookie holds only a random session id; who is logged in, the CSRF token, when the session
started, was last seen and expires are a row of the session store (``archive.staff.sessions``),
so logging out, a password change and a deactivation end it at once, in every server process.
The cookie is HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS (behind
a TLS proxy: see ``archive serve --forwarded-allow-ips``). Every request also re-reads the
staff directory, so a deactivated person loses access at once.

Before logging in a visitor has no row: his CSRF token (needed by the login form) is an HMAC
of his session id under ``$ARCHIVE_HOME/keys/session.key`` (archive.staff.session_key, made by
``archive init``), so bots that only fetch the login page write nothing to the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from archive.kinds.fieldtypes import StaffInfo
from archive.staff.session_key import load_or_create_key as load_or_create_key  # web.auth
from archive.staff.sessions import SESSION_SECONDS, SessionStore

SESSION_COOKIE = "archive_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


@dataclass
class Session:
    id: str
    csrf: str
    username: str | None = None
    changed: bool = False  # the cookie must be sent (again)


class Sessions:
    """The web's view of the session store: cookies in, sessions out."""

    def __init__(self, store: SessionStore, key: bytes) -> None:
        self.store = store
        self._key = key

    def anonymous(self, session_id: str | None = None) -> Session:
        session_id = session_id or secrets.token_urlsafe(32)
        mac = hmac.new(self._key, b"anonymous-csrf:" + session_id.encode(), hashlib.sha256)
        csrf = base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
        return Session(session_id, csrf, changed=True)

    def load(self, cookie: str | None) -> Session:
        """The session the cookie names; an anonymous one if it names none that is live."""
        if not cookie or not _SESSION_ID.fullmatch(cookie):
            return self.anonymous()
        row = self.store.find(cookie)
        if row is None:
            anonymous = self.anonymous(cookie)  # same cookie: nothing to send again
            anonymous.changed = False
            return anonymous
        return Session(cookie, row.csrf, row.username)

    def start(self, username: str) -> Session:
        """A new session id and CSRF token with the new identity: nothing planted in the
        browser before login survives it."""
        session_id, row = self.store.start(username)
        return Session(session_id, row.csrf, username, changed=True)

    def end(self, session: Session) -> Session:
        if session.username is not None:
            self.store.end(session.id)
        return self.anonymous()


def load_session(request: Request) -> Session:
    """The request's session (looked up once per request)."""
    if not hasattr(request.state, "session"):
        sessions: Sessions = request.app.state.sessions
        request.state.session = sessions.load(request.cookies.get(SESSION_COOKIE))
    return request.state.session


def session_person(request: Request) -> StaffInfo | None:
    """The active staff member the session names, looked up once per request (the
    authentication and the page's header both need him; each lookup reads the log)."""
    username = load_session(request).username
    if not username:
        return None
    known = getattr(request.state, "session_person", None)
    if known is None or known[0] != username:  # a login in this request changes who it is
        person = request.app.state.archive.staff.get(username)
        known = (username, person if person is not None and person.active else None)
        request.state.session_person = known
    return known[1]


def switch_session(request: Request, session: Session) -> None:
    """From now on this request belongs to ``session`` (after a login or a logout)."""
    request.state.session = session


def store_session(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        # The scheme the client used: uvicorn's proxy headers set it from X-Forwarded-Proto
        # when the request came through a trusted proxy.
        secure=request.url.scheme == "https",
        path="/",
    )


def csrf_ok(session: Session, submitted: str | None) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), str(submitted).encode())
