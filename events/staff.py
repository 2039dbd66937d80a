"""The ``Staff`` aggregate: a person who files, signs or audits, and the roles he holds."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.errors import RuleError

STAFF_NAMESPACE = uuid5(NAMESPACE_URL, "urn:dealer-archive:staff")


class Staff(Aggregate):
    """Id derives from the username, so a username is registered once."""

    @staticmethod
    def create_id(username: str) -> UUID:
        return uuid5(STAFF_NAMESPACE, username)

    class Registered(Aggregate.Created):
        username: str
        name: str
        roles: list[str]
        registration_no: str | None
        phone: str | None
        actor: str

    def __init__(
        self,
        username: str,
        name: str,
        roles: list[str],
        registration_no: str | None,
        phone: str | None,
        actor: str,
    ) -> None:
        self.username = username
        self.name = name
        self.roles = list(roles)
        self.registration_no = registration_no
        self.phone = phone
        self.registered_by = actor
        self.active = True
        self.deactivated: dict[str, object] | None = None
        self.password_hash: str | None = None
        self.tokens: dict[str, dict[str, object]] = {}

    class RolesChanged(Aggregate.Event):
        roles: list[str]
        registration_no: str | None
        actor: str

        def apply(self, staff: Staff) -> None:
            staff.roles = list(self.roles)
            staff.registration_no = self.registration_no

    class Deactivated(Aggregate.Event):
        reason: str
        actor: str

        def apply(self, staff: Staff) -> None:
            staff.active = False
            staff.deactivated = {"reason": self.reason, "by": self.actor, "at": self.timestamp}
            # Like his sessions, his tokens end here: a later reactivation must not revive a
            # token that may have been left on a machine he no longer uses.
            staff.tokens = {}

    class Reactivated(Aggregate.Event):
        """A deactivated person back at work (a new event: the deactivation stays in history)."""

        reason: str
        actor: str

        def apply(self, staff: Staff) -> None:
            staff.active = True
            staff.deactivated = None

    class PasswordSet(Aggregate.Event):
        password_hash: str
        actor: str

        def apply(self, staff: Staff) -> None:
            staff.password_hash = self.password_hash

    @classmethod
    def register(
        cls,
        username: str,
        name: str,
        roles: list[str],
        registration_no: str | None,
        phone: str | None,
        actor: str,
        at: datetime,
    ) -> Staff:
        return cls._create(
            cls.Registered,
            username=username,
            name=name,
            roles=roles,
            registration_no=registration_no,
            phone=phone,
            actor=actor,
            timestamp=at,
        )

    class TokenIssued(Aggregate.Event):
        token_id: str
        token_hash: str  # SHA-256 of the secret: the token itself is shown once, never stored
        label: str
        actor: str

        def apply(self, staff: Staff) -> None:
            staff.tokens[self.token_id] = {
                "hash": self.token_hash,
                "label": self.label,
                "issued_at": self.timestamp,
                "issued_by": self.actor,
            }

    class TokenRevoked(Aggregate.Event):
        token_id: str
        actor: str

        def apply(self, staff: Staff) -> None:
            staff.tokens.pop(self.token_id, None)

    def issue_token(
        self, token_id: str, token_hash: str, label: str, actor: str, at: datetime
    ) -> None:
        self._require_active()
        self.trigger_event(
            self.TokenIssued,
            token_id=token_id,
            token_hash=token_hash,
            label=label,
            actor=actor,
            timestamp=at,
        )

    def revoke_token(self, token_id: str, actor: str, at: datetime) -> None:
        if token_id not in self.tokens:
            raise RuleError("no_such_token", "没有这个令牌", "no such token")
        self.trigger_event(self.TokenRevoked, token_id=token_id, actor=actor, timestamp=at)

    def change_roles(
        self, roles: list[str], registration_no: str | None, actor: str, at: datetime
    ) -> None:
        self._require_active()
        self.trigger_event(
            self.RolesChanged,
            roles=roles,
            registration_no=registration_no,
            actor=actor,
            timestamp=at,
        )

    def deactivate(self, reason: str, actor: str, at: datetime) -> None:
        self._require_active()
        self.trigger_event(self.Deactivated, reason=reason, actor=actor, timestamp=at)

    def reactivate(self, reason: str, actor: str, at: datetime) -> None:
        if self.active:
            raise RuleError(
                "staff_active",
                f"{self.name}（{self.username}）在职，无需恢复",
                f"{self.username} is active",
            )
        self.trigger_event(self.Reactivated, reason=reason, actor=actor, timestamp=at)

    def set_password(self, password_hash: str, actor: str, at: datetime) -> None:
        self._require_active()
        self.trigger_event(self.PasswordSet, password_hash=password_hash, actor=actor, timestamp=at)

    def _require_active(self) -> None:
        if not self.active:
            raise RuleError(
                "staff_inactive",
                f"{self.name}（{self.username}）已停用",
                f"{self.username} is deactivated",
            )

    @property
    def is_registered_clerk(self) -> bool:
        return "clerk" in self.roles and bool(self.registration_no)
