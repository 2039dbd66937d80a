"""The operations of a demo plan: each becomes one call of ``archive.commands``.

Plain frozen data with a UTC timestamp, the simulated moment it happens. A plan is a list of
these sorted by time; :mod:`archive.demo.load` applies them one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Operation:
    at: datetime  # UTC
    kind: str
    number: str
    actor: str  # username of the staff member at the keyboard


@dataclass(frozen=True, kw_only=True)
class FileDocument(Operation):
    data: Mapping[str, Any]  # ``number`` and the fields, as typed or exported by the DMS
    unlinked_reason: str | None = None  # a paper from before the system names no order here


@dataclass(frozen=True, kw_only=True)
class FileDraftedReport(FileDocument):
    """A daily report drafted by the system from the day's work orders as filed by then
    (``archive.commands.daily_report``); ``data`` is what the plan expects it to hold. A day
    of more orders than one report takes is split in ``parts`` reports, this one ``part``."""

    day: str  # YYYY-MM-DD
    part: int = 1
    parts: int = 1


@dataclass(frozen=True, kw_only=True)
class SignDocument(Operation):
    role: str
    customer_name: str | None = None  # for role "customer": whose signature image to store
    image_variant: str = ""  # a second signature by the same customer looks different
    on_behalf_of: str | None = None  # the named person signed for (username), with a reason
    on_behalf_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AmendDocument(Operation):
    changes: Mapping[str, Any]
    reason: str


@dataclass(frozen=True, kw_only=True)
class AttachScan(Operation):
    filename: str
    label: str
    text: tuple[str, ...]  # the slip's title, then its lines, drawn on the generated scan


@dataclass(frozen=True, kw_only=True)
class VoidDocument(Operation):
    reason: str


@dataclass(frozen=True, kw_only=True)
class SubmitClaim(Operation):
    claim_no: str


@dataclass(frozen=True, kw_only=True)
class Depart(Operation):
    handheld_terminal_id: str
    odometer_out: int


@dataclass(frozen=True, kw_only=True)
class ReturnTrip(Operation):
    odometer_in: int
    mileage_claimed: int
    mileage_verified: int
