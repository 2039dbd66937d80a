"""What ``archive verify`` found, said so that the desk and an auditor can act on it.

Each finding names the event concerned the way people know it: its position in the log (the
notification id), the document (kind and number) or staff member it belongs to, its version and
its type. The name comes from the stored event itself when it can still be decoded, else from
the ledger's record of who each originator is, else from the aggregate's first stored event, and
as a last resort it is the bare originator id.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from archive.integrity.compare import Difference
from archive.integrity.store import read_one
from archive.kinds.registry import KINDS
from events.application import ArchiveApplication
from projections.ledger import Ledger, Subject, subject_of


def subject_label(subject: Subject) -> str:
    """How a Chinese message names a document, staff member or month volume (space after)."""
    if subject.kind == "staff":
        return f"员工 {subject.number} "
    if subject.kind == "volume":
        return f"卷 {subject.number} "
    kind = KINDS.get(subject.kind)
    return f"{kind.label if kind else subject.kind} {subject.number} "


@dataclass(frozen=True)
class EventName:
    notification_id: int
    originator_id: str
    version: int
    event: str  # the event's class, e.g. ``Document.Signed``
    subject: Subject | None

    @property
    def zh(self) -> str:
        subject = self._subject_zh()
        return f"第 {self.notification_id} 号事件（{subject}第 {self.version} 版，{self.event}）"

    @property
    def en(self) -> str:
        subject = self._subject_en()
        return f"event {self.notification_id} ({subject} version {self.version}, {self.event})"

    def _subject_zh(self) -> str:
        if self.subject is None:
            return f"对象 {self.originator_id} "
        return subject_label(self.subject)

    def _subject_en(self) -> str:
        if self.subject is None:
            return f"aggregate {self.originator_id}"
        return f"{self.subject.kind} {self.subject.number}"


@dataclass(frozen=True)
class Finding:
    """One thing that is not as signed or as witnessed; ``code`` is stable for scripts."""

    code: str
    message_zh: str
    message_en: str
    event: EventName | None = None
    moved_to: int | None = None
    checkpoint: str | None = None
    between: tuple[int, int] | None = None  # notification ids the first change lies between

    def as_dict(self) -> dict[str, Any]:
        named = self.event
        subject = named.subject if named else None
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "notification_id": named.notification_id if named else None,
            "kind": subject.kind if subject else None,
            "number": subject.number if subject else None,
            "originator_id": named.originator_id if named else None,
            "version": named.version if named else None,
            "event": named.event if named else None,
            "moved_to": self.moved_to,
            "checkpoint": self.checkpoint,
            "between": list(self.between) if self.between else None,
        }


class EventNamer:
    """Turns differences between the store and the ledger into findings with names."""

    def __init__(self, app: ArchiveApplication, ledger: Ledger) -> None:
        self.app = app
        self.witnessed_subjects = ledger.subjects()

    def finding(self, difference: Difference) -> Finding:
        name = self.name(difference)
        where = difference.moved_to
        zh, en = {
            "changed": (f"{name.zh}的内容被改动过", f"{name.en} was altered"),
            "deleted": (f"{name.zh}已从事件库中删除", f"{name.en} was deleted from the store"),
            "inserted": (
                f"{name.zh}是插进去的，账本从未见过它",
                f"{name.en} was inserted: the ledger never witnessed it",
            ),
            "moved": (
                f"{name.zh}被挪到了第 {where} 号",
                f"{name.en} was moved to position {where}",
            ),
        }[difference.code]
        return Finding(difference.code, zh, en, event=name, moved_to=where)

    def name(self, difference: Difference) -> EventName:
        subject = None
        if difference.in_store:
            moved = difference.moved_to
            now_at = difference.position if moved is None else moved
            subject = self._decoded_subject(read_one(self.app, now_at))
        subject = (
            subject
            or self.witnessed_subjects.get(difference.originator_id)
            or self._first_event_subject(difference.originator_id)
        )
        return EventName(
            difference.position,
            difference.originator_id,
            difference.version,
            difference.topic.rpartition(":")[2],
            subject,
        )

    def _decoded_subject(self, stored: StoredEvent | None) -> Subject | None:
        """The subject a stored event names, if it decodes (a tampered one may not)."""
        if stored is None:
            return None
        try:
            return subject_of(self.app.mapper.to_domain_event(stored))
        except Exception:  # any corruption of the bytes: fall back to other witnesses
            return None

    def _first_event_subject(self, originator_id: str) -> Subject | None:
        with contextlib.suppress(ValueError):
            first = self.app.recorder.select_events(UUID(originator_id), limit=1)
            return self._decoded_subject(first[0] if first else None)
        return None
