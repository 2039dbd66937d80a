"""Slowing down guessed passwords, per account.

After a few failures for one username, each further attempt must wait longer: 1 s, 2 s, 4 s
... up to 5 minutes. Only the account counts, never the client's address: the people at one
dealership share an address, and one person's typos must not lock out the others. The counts
live in the session store's database, so every server process throttles as one, and each
attempt is checked and counted in one transaction, so parallel guesses cannot race past it.
"""

from __future__ import annotations

from archive.staff.sessions import SessionStore

MAX_ACCOUNT = 100  # longer names are no username; they are kept as one key, not stored whole


def account_key(username: str) -> str:
    """The key ``username`` is counted under: however it is typed, and storable anywhere
    (PostgreSQL text holds no NUL, and no username has one)."""
    return username.replace("\x00", "").strip().lower()[:MAX_ACCOUNT]


class LoginThrottle:
    FREE_ATTEMPTS = 3
    MAX_DELAY = 300.0

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    def wait(self, failures: int, last_failure: float, now: float) -> float:
        if failures < self.FREE_ATTEMPTS:
            return 0.0
        delay = min(2.0 ** (failures - self.FREE_ATTEMPTS), self.MAX_DELAY)
        return max(0.0, last_failure + delay - now)

    def attempt(self, username: str) -> float:
        """Seconds to wait before ``username`` may try again; 0 means check the password now
        (the attempt counts as a failure until :meth:`succeeded`)."""
        return self._store.begin_attempt(account_key(username), self.wait)

    def succeeded(self, username: str) -> None:
        self._store.forget_failures(account_key(username))
