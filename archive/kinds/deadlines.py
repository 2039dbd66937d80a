"""Deadline rules, declared per kind in the registry; the number of days is configurable.

A rule only says what must happen by when. Whether something is due or overdue is computed
from the events (business dates, submissions, filings) and today's date, never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class SubmitWithin:
    """Must be submitted to the service centre within ``days`` of its business date."""

    setting: str  # the configuration key for the number of days
    days: int
    label: str


@dataclass(frozen=True)
class FollowUpWithin:
    """A document of ``follow_up_kind`` naming this one in ``link_field`` is due within
    ``days`` of this one's ``from_field`` date (a callback 3 days after a repair, 7 days after
    a delivery)."""

    setting: str
    days: int
    follow_up_kind: str
    link_field: str
    label: str
    from_field: str = "business_date"


@dataclass(frozen=True)
class FiledBefore:
    """Must be filed on or before the date in ``field`` (a PDI sheet before delivery)."""

    field: str
    label: str


Deadline = SubmitWithin | FollowUpWithin | FiledBefore


def submit_deadline(business_date: date, days: int) -> date:
    """The last day a paper of ``business_date`` may be submitted on time."""
    return business_date + timedelta(days=days)


def deadline_days(rule: SubmitWithin | FollowUpWithin, configured: Mapping[str, int]) -> int:
    """The rule's days, as configured for this archive (settings ``[deadlines]``) or its own."""
    return configured.get(rule.setting, rule.days)
