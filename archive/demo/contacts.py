"""The desk's calls to customers in a demo: maintenance reminders, holiday greetings, and
callbacks asking lapsed customers why they stopped coming (the churn reason).

Who is due, whom to greet and who has lapsed depend on the archive's own report settings
(the churn period, the intervals, the holiday calendar), so these operations are planned as
moments only and decide whom to call when they run, from the read models as they stand then,
exactly as the clerk reads the lists. Each draws from its own ``random.Random`` seeded by the
demo's seed and its moment, so a demo is still the same every time; the plan's own random
stream is not touched (adding these changes nothing else in a demo).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from archive import commands
from archive.bootstrap import Archive, opening
from archive.contacts.rules import REMINDER_OUTCOMES
from archive.contacts.settings import Holiday, default_holidays, report_settings
from archive.contacts.visits import add_months, card_fields, visits_between
from archive.demo.desk import TZ, Desk, is_working, to_utc
from archive.demo.ops import Operation
from archive.demo.people import STAFF, Roster
from archive.kinds.registry import CHURN_REASONS
from archive.reports.churn import split
from archive.reports.greetings import to_greet
from archive.reports.maintenance import due_vehicles
from archive.reports.model import ReportSource
from archive.reports.periods import month_period
from projections.contacts import Contacts
from projections.runner import catch_up
from projections.vehicles import VehicleHistory

# How many calls a round makes at most: each is one command (a few events), and a busy
# store's lists run to thousands; the rest stay 未联系 / 未问候 on the lists.
REMINDERS_PER_ROUND = 60
GREETINGS_PER_HOLIDAY = 120
LAPSED_CALLS = 30


@contextmanager
def _source(archive: Archive) -> Iterator[ReportSource]:
    """The vehicle-history and contacts read models caught up, as the reports' source (the
    only models the lists below read)."""
    with opening(archive.layout):
        vehicles = VehicleHistory(archive.read_models_location)
        contacts = Contacts(archive.read_models_location)
    try:
        for model in (vehicles, contacts):
            catch_up(model, archive.log())
        models = SimpleNamespace(vehicles=vehicles, contacts=contacts)
        yield ReportSource(archive, models)  # type: ignore[arg-type]
    finally:
        vehicles.close()
        contacts.close()


def _rng(seed: int, at: datetime, what: str) -> random.Random:
    return random.Random(f"{seed}-{what}-{at:%Y%m%d%H%M}")


@dataclass(frozen=True, kw_only=True)
class ContactRound(Operation):
    """One round of calls; ``run`` is what the loader calls, at its moment."""

    seed: int
    month: str  # the month the round looks at (the reminders' due month, the greetings')

    def run(self, archive: Archive) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class RemindDue(ContactRound):
    """Around the 25th: the clerk calls (or writes to) the owners of cars due next month."""

    def run(self, archive: Archive) -> Any:
        period = month_period(*map(int, self.month.split("-")))
        rng = _rng(self.seed, self.at, "remind")
        with _source(archive) as source:
            due = due_vehicles(source, period.start, period.end)
        last = None
        # One afternoon's calls: a busy store's list is longer than the clerk gets through.
        for item in rng.sample(due, min(len(due), REMINDERS_PER_ROUND)):
            if rng.random() < 0.25:
                continue  # not reached this round: stays 未联系
            outcome = rng.choices([c for c, _ in REMINDER_OUTCOMES], (35, 20, 35, 10))[0]
            last = commands.record_reminder(
                archive, item["vin"], outcome, self.actor, due=item["due"].day
            )
        return last


@dataclass(frozen=True, kw_only=True)
class GreetBeforeHoliday(ContactRound):
    """Two working days before a holiday: greetings to the customers of the last months."""

    holiday: str

    def run(self, archive: Archive) -> Any:
        rng = _rng(self.seed, self.at, "greet")
        holiday = report_settings(archive.settings).holiday(self.holiday)
        if holiday is None:  # a calendar without it: nothing to do
            return None
        with _source(archive) as source:
            people = to_greet(source, holiday)
        results = ("sms", "called", "no_answer", "declined")
        last = None
        for person in rng.sample(people, min(len(people), GREETINGS_PER_HOLIDAY)):
            if rng.random() < 0.3:
                continue
            result = rng.choices(results, (60, 25, 10, 5))[0]
            last = commands.record_greeting(
                archive, person["customer_key"], holiday.code, result, self.actor
            )
        return last


@dataclass(frozen=True, kw_only=True)
class CallLapsed(ContactRound):
    """Early in the month: a few customers lapsed at its start are called and asked why."""

    def run(self, archive: Archive) -> Any:
        rng = _rng(self.seed, self.at, "churn")
        months = report_settings(archive.settings).churn_months
        start = month_period(*map(int, self.month.split("-"))).start
        with _source(archive) as source:
            visits = visits_between(source.models.contacts, add_months(start, -2 * months), start)
            days: dict[str, list[date]] = {}
            last: dict[str, str] = {}
            for visit in visits:
                if visit.customer_key:
                    days.setdefault(visit.customer_key, []).append(visit.day)
                    last[visit.customer_key] = visit.doc_id
            _, lapsed = split(days, start, months)
            chosen = sorted(lapsed)
            rng.shuffle(chosen)
            chosen = chosen[: min(LAPSED_CALLS, max(1, len(chosen) // 3))] if chosen else []
            cards = card_fields(source.models.vehicles, [last[k] for k in chosen])
        local = self.at.astimezone(TZ)
        filed = None
        for index, key in enumerate(chosen, start=1):
            card = cards[last[key]]
            called = local + timedelta(minutes=7 * index)
            reached = rng.random() < 0.8
            fields: dict[str, Any] = {
                "number": f"LS{local:%y%m}-{index:03d}",
                "business_date": local.date().isoformat(),
                "work_order_no": _number_of(archive, last[key]),
                "customer_name": card.get("customer_name"),
                "customer_phone": key,
                "called_at": f"{called:%Y-%m-%d %H:%M}",
                "outcome": "reached" if reached else "no_answer",
            }
            if reached:
                fields["churn_reason"] = rng.choices(
                    [c for c, _ in CHURN_REASONS], (20, 25, 15, 20, 15, 5)
                )[0]
            filed = commands.file_document(archive, "callback", fields, self.actor)
        return filed


def _number_of(archive: Archive, doc_id: str) -> str:
    doc = archive.app.repository.get(UUID(doc_id))
    return str(doc.number)


def plan_contacts(seed: int, months: list[str]) -> list[Operation]:
    """The rounds of calls of the demo's months (their moments only)."""
    clerk = Roster(STAFF).desk_clerk.username
    rounds: list[Operation] = []
    for month in months:
        desk = Desk(month)
        period = month_period(desk.first.year, desk.first.month)
        next_month = f"{period.end:%Y-%m}"
        day = max(d for d in desk.days if d.day <= 25)
        rounds.append(_round(RemindDue, desk.at(day, 16), seed, next_month, clerk))
        third = desk.days[2] if len(desk.days) > 2 else desk.days[-1]
        rounds.append(_round(CallLapsed, desk.at(third, 10), seed, month, clerk))
        for holiday in _holidays(month):
            day = holiday.day - timedelta(days=2)
            while not is_working(day):
                day -= timedelta(days=1)
            rounds.append(
                GreetBeforeHoliday(
                    at=to_utc(desk.at(day, 11)),
                    kind="customer_contact",
                    number=holiday.code,
                    actor=clerk,
                    seed=seed,
                    month=month,
                    holiday=holiday.code,
                )
            )
    return rounds


def _round(cls: type[ContactRound], at: datetime, seed: int, month: str, actor: str) -> Any:
    return cls(
        at=to_utc(at), kind="customer_contact", number=month, actor=actor, seed=seed, month=month
    )


def _holidays(month: str) -> list[Holiday]:
    """The default calendar's holidays whose eve is in ``month``."""
    period = month_period(*map(int, month.split("-")))
    return [h for h in default_holidays() if h.day - timedelta(days=1) in period]
