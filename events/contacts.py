"""The ``CustomerContact`` aggregate: the desk reaching a customer for something other than a
paper document — a periodic-maintenance reminder, a holiday greeting.

One aggregate per purpose, subject and occasion (the VIN and its due date for a reminder, the
customer and the holiday for a greeting), so its id derives from them and every outcome the
desk records for that occasion is one more event of the same aggregate: the last one is what
the lists show, the earlier ones stay in its history.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.errors import RuleError

CONTACT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:dealer-archive:customer-contact")
REMINDER = "maintenance"  # purpose: a periodic-maintenance reminder, subject a VIN
GREETING = "greeting"  # purpose: a holiday greeting, subject a customer (his mobile number)
PURPOSES = (REMINDER, GREETING)


class CustomerContact(Aggregate):
    """Id derives from (purpose, subject, occasion): one record per reminder or greeting."""

    @staticmethod
    def create_id(purpose: str, subject: str, occasion: str) -> UUID:
        return uuid5(CONTACT_NAMESPACE, f"{purpose}|{subject}|{occasion}")

    class Opened(Aggregate.Created):
        purpose: str
        subject: str  # a VIN (reminder) or a customer key (greeting)
        occasion: str  # the due date 'YYYY-MM-DD' (reminder) or the holiday code (greeting)
        actor: str

    def __init__(self, purpose: str, subject: str, occasion: str, actor: str) -> None:
        self.purpose = purpose
        self.subject = subject
        self.occasion = occasion
        self.opened_by = actor
        # Every outcome recorded, oldest first: {"outcome", "note", "actor", "at"}.
        self.outcomes: list[dict[str, object]] = []

    class ReminderOutcomeRecorded(Aggregate.Event):
        outcome: str  # called | letter_sent | booked | declined
        note: str
        actor: str

        def apply(self, contact: CustomerContact) -> None:
            contact.outcomes.append(
                {
                    "outcome": self.outcome,
                    "note": self.note,
                    "actor": self.actor,
                    "at": self.timestamp,
                }
            )

    class GreetingRecorded(Aggregate.Event):
        holiday: str  # the holiday's code, e.g. "2027-spring"
        result: str  # sms | called | no_answer | declined
        note: str
        actor: str

        def apply(self, contact: CustomerContact) -> None:
            contact.outcomes.append(
                {
                    "outcome": self.result,
                    "note": self.note,
                    "actor": self.actor,
                    "at": self.timestamp,
                }
            )

    @classmethod
    def open(
        cls, purpose: str, subject: str, occasion: str, actor: str, at: datetime
    ) -> CustomerContact:
        if purpose not in PURPOSES:
            raise RuleError(
                "unknown_purpose", f"没有“{purpose}”这种联系", f"no purpose {purpose!r}"
            )
        return cls._create(
            cls.Opened,
            id=cls.create_id(purpose, subject, occasion),
            purpose=purpose,
            subject=subject,
            occasion=occasion,
            actor=actor,
            timestamp=at,
        )

    def record_reminder(self, outcome: str, note: str, actor: str, at: datetime) -> None:
        self._require(REMINDER)
        self.trigger_event(
            self.ReminderOutcomeRecorded, outcome=outcome, note=note, actor=actor, timestamp=at
        )

    def record_greeting(self, result: str, note: str, actor: str, at: datetime) -> None:
        self._require(GREETING)
        self.trigger_event(
            self.GreetingRecorded,
            holiday=self.occasion,
            result=result,
            note=note,
            actor=actor,
            timestamp=at,
        )

    def _require(self, purpose: str) -> None:
        if self.purpose != purpose:
            raise RuleError(
                "wrong_purpose",
                "这条联系记录不是这种用途",
                f"this contact is a {self.purpose}, not a {purpose}",
            )

    @property
    def latest(self) -> dict[str, object] | None:
        return self.outcomes[-1] if self.outcomes else None
