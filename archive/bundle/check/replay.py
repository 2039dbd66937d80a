"""Decoding and replaying events that came from outside the archive (a bundle's manifest).

The bytes are whatever the file says, so nothing in them may choose code: an event's topic (and a
creation event's ``originator_topic``) names a class that the library would import, and only the
archive's own document and volume events are let through. Decoding uses the archive's
transcodings in an in-memory application, with no compressor or cipher whatever the
environment says, and touches no database.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from events.application import ArchiveApplication, fold
from events.document import Document
from events.volume import MonthVolume

A = TypeVar("A", bound=Aggregate)


class Undecodable(ValueError):
    """Bytes that are not an event of the expected aggregate, or events that do not replay."""


def _event_topics(aggregate: type[Aggregate]) -> frozenset[str]:
    return frozenset(
        get_topic(member)
        for member in vars(aggregate).values()
        if isinstance(member, type) and issubclass(member, Aggregate.Event)
    )


EVENT_TOPICS = {Document: _event_topics(Document), MonthVolume: _event_topics(MonthVolume)}


def decode(
    aggregate: type[Aggregate], originator_id: UUID, version: int, topic: str, state: bytes
) -> Any:
    """One stored event of ``aggregate`` as a domain event (:class:`Undecodable` if not)."""
    if topic not in EVENT_TOPICS[aggregate]:
        raise Undecodable(f"{topic!r} is not an event of {aggregate.__name__}")
    try:
        event = _mapper().to_domain_event(StoredEvent(originator_id, version, topic, state))
    except Exception as error:  # forged bytes may fail anywhere in decoding
        raise Undecodable(str(error) or type(error).__name__) from None
    created_as = getattr(event, "originator_topic", None)
    if created_as is not None and created_as != get_topic(aggregate):
        raise Undecodable(f"the event creates {created_as!r}, not a {aggregate.__name__}")
    return event


def replay(aggregate: type[A], events: Sequence[Any]) -> A:
    """The aggregate the decoded ``events`` make, from its first event."""
    try:
        state = fold(events)
    except Exception as error:  # e.g. a version 1 that is not a creation event
        raise Undecodable(f"the events do not replay: {error or type(error).__name__}") from None
    if not isinstance(state, aggregate):
        raise Undecodable(f"the events do not make a {aggregate.__name__}")
    return state


@functools.cache
def _mapper() -> Mapper[UUID]:
    plain = {"COMPRESSOR_TOPIC": "", "CIPHER_TOPIC": "", "CIPHER_KEY": ""}
    return ArchiveApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo", **plain}).mapper
