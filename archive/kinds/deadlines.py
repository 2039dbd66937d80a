"""Deadline rules, declared per kind in the registry; the number of days is configurable.

A rule only says what must happen by when. Whether something is due or overdue is computed
from the events (business dates, submissions, filings) and today's date, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubmitWithin:
    """Must be submitted to the service centre within ``days`` of its business date."""

    setting: str  # the configuration key for the number of days
    days: int
    label: str


@dataclass(frozen=True)
class FollowUpWithin:
    """A document of ``follow_up_kind`` naming this one in ``link_field`` is due within
    ``days`` of this one's business date (a callback after a repair)."""

    setting: str
    days: int
    follow_up_kind: str
    link_field: str
    label: str


@dataclass(frozen=True)
class FiledBefore:
    """Must be filed on or before the date in ``field`` (a PDI sheet before delivery)."""

    field: str
    label: str


Deadline = SubmitWithin | FollowUpWithin | FiledBefore
