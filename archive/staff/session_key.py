"""The key of anonymous visitors' CSRF tokens: ``$ARCHIVE_HOME/keys/session.key``.

Before logging in a visitor has no session row; the login form's CSRF token is an HMAC of his
session id under this key. Several servers behind one address must share it (the form may be
fetched from one and posted to another), so ``archive init`` makes it beside the checkpoint
key and copying ``keys/`` to every home after init shares both. It stays a file, never in the
database: like the signing key it is a secret the database's readers need not hold.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from archive.config import Settings

KEY_BYTES = 32


def ensure_session_key(settings: Settings) -> bytes:
    """The home's session key, made if missing (``archive init`` and every server's start)."""
    return load_or_create_key(settings.layout.session_key)


def load_or_create_key(path: Path) -> bytes:
    """The key at ``path``, made once with mode 0600 if there is none. Two processes making
    it at once agree: the second reads the first one's key."""
    if not path.is_file():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
        try:
            os.link(made, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            made.unlink()
    return path.read_bytes()
