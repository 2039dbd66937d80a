"""Sessions in signed cookies, CSRF tokens, and slowing down repeated failed logins.

The session cookie holds only the username, a CSRF token and when it was issued, signed with
HMAC-SHA256 under a key kept in ``$ARCHIVE_HOME/keys/session.key``; it is HttpOnly and
SameSite=Lax. Every request re-reads the staff directory, so a deactivated person loses
access at once, whatever his cookie says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request, Response

from archive.kinds.fieldtypes import StaffInfo

SESSION_COOKIE = "archive_session"
SESSION_HOURS = 12  # a working day; then log in again
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def load_or_create_key(path: Path) -> bytes:
    """The session signing key, made once with mode 0600; never in the database."""
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@dataclass
class Session:
    username: str | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    issued: int = field(default_factory=lambda: int(time.time()))
    changed: bool = False


class SessionSigner:
    def __init__(self, key: bytes) -> None:
        self.key = key

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self.key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def dumps(self, session: Session) -> str:
        payload = json.dumps(
            {"u": session.username, "c": session.csrf, "t": session.issued},
            separators=(",", ":"),
        ).encode()
        encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{encoded}.{self._mac(payload)}"

    def loads(self, cookie: str | None) -> Session:
        """The session in ``cookie``, or a fresh anonymous one if it is missing, forged or old."""
        if not cookie or "." not in cookie:
            return Session(changed=True)
        encoded, mac = cookie.rsplit(".", 1)
        try:
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            data = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return Session(changed=True)
        if not hmac.compare_digest(mac, self._mac(payload)):
            return Session(changed=True)
        if int(time.time()) - int(data.get("t", 0)) > SESSION_HOURS * 3600:
            return Session(changed=True)
        return Session(username=data.get("u"), csrf=str(data.get("c")), issued=int(data["t"]))


def load_session(request: Request) -> Session:
    """The request's session (parsed once per request)."""
    if not hasattr(request.state, "session"):
        signer: SessionSigner = request.app.state.session_signer
        request.state.session = signer.loads(request.cookies.get(SESSION_COOKIE))
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


def store_session(request: Request, response: Response, session: Session) -> None:
    signer: SessionSigner = request.app.state.session_signer
    response.set_cookie(
        SESSION_COOKIE,
        signer.dumps(session),
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf, str(submitted))


class LoginThrottle:
    """After a few failures for one username (or from one address), each further attempt
    must wait longer: 1 s, 2 s, 4 s ... up to 5 minutes. Kept in memory: a restart forgets."""

    FREE_ATTEMPTS = 3
    MAX_DELAY = 300.0

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, *keys: str) -> float:
        now = time.monotonic()
        with self._lock:
            waits = [self._wait(self._failures.get(k), now) for k in keys]
        return max(waits, default=0.0)

    def _wait(self, record: tuple[int, float] | None, now: float) -> float:
        if record is None or record[0] < self.FREE_ATTEMPTS:
            return 0.0
        count, last = record
        delay = min(2.0 ** (count - self.FREE_ATTEMPTS), self.MAX_DELAY)
        return max(0.0, last + delay - now)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                count, _ = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
