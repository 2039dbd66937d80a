"""Checking who someone is: Argon2 password hashes and personal API tokens.

Hashing lives here so the write path (setting a password) and the read path (logging in)
agree on one scheme. A deactivated person is refused even with the right password.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError

from archive.kinds.fieldtypes import StaffInfo
from archive.staff.directory import info_of
from events.staff import Staff

if TYPE_CHECKING:  # the composition root builds the staff directory: no import back at run time
    from archive.bootstrap import Archive

TOKEN_PREFIX = "arc_"
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the username is unknown, so both cases take the same time.
    Made on first use: hashing takes a tenth of a second, and most commands never log in."""
    return _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _staff(archive: Archive, username: str) -> Staff | None:
    try:
        return archive.app.repository.get(Staff.create_id(username))
    except AggregateNotFoundError:
        return None


def password_matches(staff: Staff, password: str) -> bool:
    """Whether ``password`` is the one ``staff`` has set (false when he has none)."""
    if staff.password_hash is None:
        return False
    try:
        return _HASHER.verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(archive: Archive, username: str, password: str) -> StaffInfo | None:
    """The person if the password is right and he is active; otherwise ``None``."""
    staff = _staff(archive, username.strip()) if username else None
    stored = staff.password_hash if staff and staff.password_hash else _dummy_hash()
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if staff is None or staff.password_hash is None or not staff.active:
        return None
    return info_of(staff)


def check_token(archive: Archive, token: str) -> StaffInfo | None:
    """The active person a personal API token belongs to, or ``None``."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        username, token_id, secret = token.removeprefix(TOKEN_PREFIX).split("_", 2)
    except ValueError:
        return None
    staff = _staff(archive, username)
    if staff is None or not staff.active or token_id not in staff.tokens:
        return None
    expected = str(staff.tokens[token_id]["hash"])
    if not hmac.compare_digest(expected, token_digest(secret)):
        return None
    return info_of(staff)
