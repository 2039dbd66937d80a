"""Planning a demo month: :class:`DemoSpec` in, :class:`DemoPlan` (staff and operations) out.

:func:`generate` is pure: it draws only from ``random.Random(spec.seed)``, reads no clock and
touches no storage, so the same spec always gives the same plan, operation for operation.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from archive.demo.callbacks import CallDesk
from archive.demo.complaints import complaint_operations
from archive.demo.contacts import plan_contacts
from archive.demo.corrections import Corrector, correction_kinds
from archive.demo.delivery_calls import add_delivery_callbacks
from archive.demo.desk import TZ, Desk, parse_month, to_utc
from archive.demo.fees import fee_operations
from archive.demo.fleet import remember_cars
from archive.demo.numbering import Sequences
from archive.demo.ops import FileDocument, Operation, SubmitClaim
from archive.demo.paperwork import Paperwork, Rates
from archive.demo.people import STAFF, People, Roster, StaffMember
from archive.demo.visits import VisitMix, plan_visits


@dataclass(frozen=True)
class DemoSpec:
    """What month to simulate and how busy it is.

    Counts of the other kinds scale with ``work_orders``; the defaults give a mid-size
    dealer's month: 600 work orders, ~80 warranty claims, 40 new cars delivered, ...
    """

    month: str  # "2026-10": the month planned, or the last of ``months`` consecutive ones
    seed: int = 4
    months: int = 1
    # The demo's clock (UTC): nothing planned after it happens, a month not over is planned
    # up to it. None: every month planned to its end and the weeks after it.
    until: datetime | None = None
    work_orders: int = 600
    claims_per_work_order: float = 80 / 600
    deliveries_per_work_order: float = 40 / 600  # a PDI sheet and a warranty registration each
    first_services_per_work_order: float = 40 / 600
    offsite_per_work_order: float = 10 / 600
    quick_handling_per_work_order: float = 10 / 600
    return_repairs_per_work_order: float = 2 / 600
    on_behalf_per_work_order: float = 2 / 600  # signed by the workshop lead for a technician
    corrections_per_work_order: float = 20 / 600  # off-site and return forms add ~12 more
    voids_per_work_order: float = 8 / 600
    revisit_share: float = 0.15  # of the cars, coming back a second time in the month
    returning_share: float = 0.35  # of the other visits after the first month, known cars
    callback_share: float = 0.9  # of the settled work orders
    late_share: float = 0.1  # of claims and callbacks
    unsigned_share: float = 0.05  # of the papers, left missing one signature
    unsubmitted_share: float = 0.08  # of the claims, not yet submitted
    unscanned_share: float = 0.03  # of the papers that need a scan
    resign_share: float = 0.85  # of the corrected papers, signed again afterwards

    def count(self, per_work_order: float, at_least: int = 0) -> int:
        return max(at_least, round(self.work_orders * per_work_order))

    def month_list(self) -> list[str]:
        """``months`` consecutive months ending with ``month``, oldest first."""
        if self.months < 1:
            raise ValueError(f"months must be at least 1, not {self.months}")
        last = parse_month(self.month)
        index = last.year * 12 + last.month - 1
        first = index - self.months + 1
        return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(first, index + 1)]


@dataclass(frozen=True)
class PlanFacts:
    """Things the plan put in on purpose, for tests and for showing the archive off."""

    odometer_anomalies: tuple[tuple[str, str, str], ...]  # VIN, earlier and later work order
    late_claims: tuple[str, ...]
    late_callbacks: tuple[str, ...]
    corrections: int
    unsigned: tuple[tuple[str, str], ...]  # (kind, number) planned to miss a signature

    @property
    def odometer_anomaly(self) -> tuple[str, str, str] | None:
        """The first month's (a one-month demo has one)."""
        return self.odometer_anomalies[0] if self.odometer_anomalies else None


@dataclass(frozen=True)
class DemoPlan:
    spec: DemoSpec
    staff: tuple[StaffMember, ...]  # registered in this order, the first by himself
    staff_registered_at: datetime  # UTC
    operations: tuple[Operation, ...]  # sorted by simulated time
    facts: PlanFacts

    def documents(self) -> dict[str, list[str]]:
        """The numbers filed, per kind, in filing order."""
        result: dict[str, list[str]] = {}
        for op in self.operations:
            if isinstance(op, FileDocument):
                result.setdefault(op.kind, []).append(op.number)
        return result

    def counts(self) -> dict[str, int]:
        """How many operations of each type (FileDocument, SignDocument, ...)."""
        return dict(Counter(type(op).__name__ for op in self.operations))


def generate(spec: DemoSpec) -> DemoPlan:
    """Plan the months described by ``spec``; pure and deterministic.

    The months share their people (a car of March may come back in May, no VIN, plate or
    phone is made up twice) and their running numbers (:mod:`archive.demo.numbering`).
    """
    rng = random.Random(spec.seed)
    roster = Roster(STAFF)
    shared = _Shared(people=People(rng), sequences=Sequences())
    months = [
        _plan_month(rng, spec, month, roster, shared, first=index == 0)
        for index, month in enumerate(spec.month_list())
    ]
    operations = [op for month in months for op in month.operations]
    operations += plan_contacts(spec.seed, spec.month_list())  # reminders, greetings, churn
    operations += fee_operations(spec.month_list(), roster)  # each month's invoice
    operations.sort(key=lambda op: op.at)  # stable: a paper's own steps keep their order
    if spec.until is not None:
        # A paper's steps are in time order and what refers to a paper comes after it, so
        # what is left is a store's archive as it stood at that moment.
        operations = [op for op in operations if op.at <= spec.until]
    facts = _facts(months, operations)
    first = Desk(spec.month_list()[0]).first
    registered = to_utc(Desk(spec.month_list()[0]).at(first - timedelta(days=3), 9))
    return DemoPlan(spec, roster.staff, registered, tuple(operations), facts)


@dataclass
class _Shared:
    people: People
    sequences: Sequences


@dataclass
class _Month:
    operations: list[Operation]
    anomaly: tuple[str, str, str] | None
    book: Paperwork
    corrected: int
    unsigned: list[tuple[str, str]]


def _plan_month(
    rng: random.Random,
    spec: DemoSpec,
    month: str,
    roster: Roster,
    shared: _Shared,
    first: bool,
) -> _Month:
    desk = Desk(month)
    people = shared.people
    voids = spec.count(spec.voids_per_work_order, at_least=1)
    duplicates, no_shows = round(voids * 3 / 8), round(voids * 2 / 8)
    mix = VisitMix(
        visits=spec.work_orders - duplicates - no_shows,
        warranty=spec.count(spec.claims_per_work_order, at_least=1),
        first_service=spec.count(spec.first_services_per_work_order),
        return_repairs=spec.count(spec.return_repairs_per_work_order),
        revisit_share=spec.revisit_share,
        returning_share=spec.returning_share,
        cancelled=voids - duplicates - no_shows,
        duplicates=duplicates,
        no_shows=no_shows,
    )
    visits = plan_visits(rng, desk, people, roster, mix)
    rates = Rates(
        late=spec.late_share,
        unsubmitted=spec.unsubmitted_share,
        unscanned=spec.unscanned_share,
        callbacks=spec.callback_share,
        resign=spec.resign_share,
    )
    book = Paperwork(rng, desk, people, roster, rates, shared.sequences)
    offsite_km = book.add_offsite(visits, spec.count(spec.offsite_per_work_order))
    book.add_work_orders(visits)
    book.add_on_behalf(visits, spec.count(spec.on_behalf_per_work_order, at_least=1))
    book.add_claims(visits, offsite_km)
    if first:
        book.add_claim_from_before()
    book.add_deliveries(spec.count(spec.deliveries_per_work_order))
    kinds = correction_kinds(spec.count(spec.corrections_per_work_order, at_least=1))
    forms = spec.count(spec.quick_handling_per_work_order, at_least=1)
    corrected = CallDesk(book).add(visits, forms, phone_fixes=kinds.count("phone"))
    add_delivery_callbacks(book)
    book.add_daily_reports(visits)
    corrected += Corrector(book, visits, spec.resign_share).apply(kinds)
    unsigned = _leave_unsigned(rng, book, spec.unsigned_share)
    remember_cars(people, visits)
    operations = [op for paper in book.papers for op in paper.operations(rng, desk)]
    operations += complaint_operations(book, visits)  # their own random stream
    anomaly = next((v for v in visits if v.odometer_anomaly), None)
    return _Month(
        operations,
        (anomaly.car.vin, anomaly.previous.number, anomaly.number)
        if anomaly and anomaly.previous
        else None,
        book,
        corrected,
        unsigned,
    )


def _facts(months: list[_Month], operations: list[Operation]) -> PlanFacts:
    """What the months put in on purpose, as far as it happened before the clock."""
    filed = {(op.kind, op.number) for op in operations if isinstance(op, FileDocument)}
    deadlines = {
        op.number: op.data["report_deadline"]
        for op in operations
        if isinstance(op, FileDocument) and op.kind == "warranty_claim"
    }
    numbers = {op.number for op in operations if isinstance(op, FileDocument)}
    return PlanFacts(
        odometer_anomalies=tuple(
            m.anomaly for m in months if m.anomaly and m.anomaly[2] in numbers
        ),
        late_claims=tuple(
            op.number
            for op in operations
            if isinstance(op, SubmitClaim)
            and f"{op.at.astimezone(TZ):%Y-%m-%d}" > deadlines[op.number]
        ),
        late_callbacks=tuple(
            n for m in months for n in m.book.late_callbacks if ("callback", n) in filed
        ),
        corrections=sum(m.corrected for m in months),
        unsigned=tuple(u for m in months for u in m.unsigned if u in filed),
    )


def _leave_unsigned(rng: random.Random, book: Paperwork, share: float) -> list[tuple[str, str]]:
    """Some papers never get every signature: someone was on leave, the slip got lost."""
    left = []
    for paper in book.papers:
        if paper.voided or rng.random() >= share:
            continue
        # The clerk's pre-departure signature of an off-site order is never the one missing.
        keep = ("clerk",) if paper.kind == "offsite_service" else ()
        if paper.drop_signature(rng, keep):
            left.append((paper.kind, paper.number))
    return left
