"""The month's workshop visits, each of which becomes a work order (维修委托书).

A visit is a car received on a working day, with its repair type, mileage, job, advisor and
technicians. About 15% of the cars come back once more later in the month with a higher
odometer reading; exactly one comes back with a lower one, for the auditors to find.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from archive.demo import vocab
from archive.demo.desk import Desk
from archive.demo.fleet import Returning
from archive.demo.people import STAFF, People, Roster, StaffMember, Vehicle
from archive.kinds.registry import REPAIR_TYPES

REPAIR_LABELS = dict(REPAIR_TYPES)
# Types a car's second visit of the month may have, and those its first may have.
SECOND_TYPES = ("maintenance", "repair", "accident")
FIRST_TYPES = ("maintenance", "repair", "accident", "warranty", "first_service")
# Work done for free: the manufacturer pays the first service, the store pays a return repair.
FREE_TYPES = ("first_service", "return_repair")


@dataclass(eq=False)  # compared by identity: two visits of one car are still two visits
class Visit:
    opened: datetime  # local time the car was received
    repair_type: str
    vehicle: Vehicle | None = None
    mileage: int = 0
    job: vocab.Job = vocab.SMALL_SERVICE
    words: str = ""  # the customer's own words on the diagnostic sheet
    advisor: StaffMember | None = None
    technicians: tuple[StaffMember, ...] = ()
    settled: datetime | None = None  # None: never settled (voided)
    number: str = ""
    previous: Visit | None = None  # this car's earlier visit this month
    void: str | None = None  # cancelled | duplicate | no_show
    duplicate_of: Visit | None = None
    followed: bool = False  # this car comes back later in the month
    odometer_anomaly: bool = False

    @property
    def day(self) -> date:
        return self.opened.date()

    @property
    def car(self) -> Vehicle:
        assert self.vehicle is not None
        return self.vehicle

    def labour_lines(self) -> list[dict[str, str]]:
        rate = 0 if self.repair_type in FREE_TYPES else vocab.LABOUR_RATE
        return [
            {"description": text, "hours": hours, "amount": _money(Decimal(hours) * rate)}
            for text, hours in self.job.labour
        ]

    def parts_lines(self) -> list[dict[str, str]]:
        free = self.repair_type in FREE_TYPES
        return [
            {
                "part_no": part.part_no,
                "name": part.name,
                "qty": str(qty),
                "amount": _money(0 if free else Decimal(part.price) * qty),
            }
            for part, qty in self.job.parts
        ]

    def amount(self) -> Decimal:
        lines = self.labour_lines() + (self.parts_lines() if self.settled else [])
        return sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))


def _money(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


@dataclass(frozen=True)
class VisitMix:
    """How many visits of each kind to plan (the rest are maintenance, repair, accident)."""

    visits: int
    warranty: int
    first_service: int
    return_repairs: int = 0
    revisit_share: float = 0.15
    returning_share: float = 0.0  # of the other first visits, cars seen in earlier months
    odometer_anomaly: bool = True
    cancelled: int = 0
    duplicates: int = 0
    no_shows: int = 0


def plan_visits(
    rng: random.Random, desk: Desk, people: People, roster: Roster, mix: VisitMix
) -> list[Visit]:
    """Every visit of the month, numbered in the order the cars were received."""
    visits = _slots(rng, desk, mix)
    _pair_returns(rng, visits)
    _pair_revisits(rng, visits, mix.revisit_share)
    year = desk.first.year
    back = Returning(rng, people, mix.returning_share)
    for visit in visits:  # in time order, so a first visit gets its car before the second
        if not back.give_car(visit):
            _give_car(rng, people, roster, visit, year)
        visit.advisor = visit.car.advisor
        _give_job(rng, visit)
        visit.technicians = _technicians(rng, roster)
        visit.settled = _settlement(rng, desk, visit)
    if mix.odometer_anomaly:
        _odometer_anomaly(rng, visits)
    visits += _voided(rng, desk, people, roster, visits, mix)
    visits.sort(key=lambda v: v.opened)
    _number(visits)
    return visits


def _slots(rng: random.Random, desk: Desk, mix: VisitMix) -> list[Visit]:
    accident = round(mix.visits * 0.08)
    repair = round(mix.visits * 0.27)
    types = (
        ["warranty"] * mix.warranty
        + ["first_service"] * mix.first_service
        + ["return_repair"] * mix.return_repairs
        + ["accident"] * accident
        + ["repair"] * repair
    )
    types += ["maintenance"] * max(0, mix.visits - len(types))
    types = types[: mix.visits]
    rng.shuffle(types)
    # Saturdays and Mondays are the busy days at a service desk.
    weights = [{0: 1.2, 5: 1.4}.get(day.weekday(), 1.0) for day in desk.days]
    days = rng.choices(desk.days, weights, k=len(types))
    visits = [
        Visit(opened=desk.moment(rng, day, "08:30", "16:30"), repair_type=kind)
        for day, kind in zip(days, types, strict=True)
    ]
    visits.sort(key=lambda v: v.opened)
    return visits


def _pair_returns(rng: random.Random, visits: list[Visit]) -> None:
    """A return repair (返修) follows a repair of the same car 4 to 10 days earlier."""
    for visit in [v for v in visits if v.repair_type == "return_repair"]:
        earlier = [
            v
            for v in visits
            if v.repair_type == "repair"
            and v.previous is None
            and not v.followed
            and timedelta(days=4) <= visit.day - v.day <= timedelta(days=10)
        ]
        if not earlier:
            visit.repair_type = "repair"
            continue
        first = rng.choice(earlier)
        first.followed = True
        visit.previous = first


def _pair_revisits(rng: random.Random, visits: list[Visit], share: float) -> None:
    """Give about ``share`` of the cars a second visit, at least three days after the first."""
    paired = sum(1 for v in visits if v.previous is not None)
    wanted = round(len(visits) * share / (1 + share)) - paired
    if wanted <= 0:
        return
    firsts = [v for v in visits if v.repair_type in FIRST_TYPES and not v.followed]
    seconds = [
        v
        for v in visits
        if v.repair_type in SECOND_TYPES and not v.followed and v.day > visits[0].day
    ]
    seconds = sorted(rng.sample(seconds, min(wanted, len(seconds))), key=lambda v: v.opened)
    chosen = set(seconds)
    firsts = [v for v in firsts if v not in chosen]
    times = [v.opened for v in firsts]
    for second in seconds:
        # Only cars seen at least three days earlier and not yet paired can come back.
        end = bisect.bisect_left(times, second.opened - timedelta(days=3))
        if end == 0:
            continue
        index = rng.randrange(end)
        first = firsts.pop(index)
        times.pop(index)
        first.followed = True
        second.previous = first


def _give_car(rng: random.Random, people: People, roster: Roster, visit: Visit, year: int) -> None:
    if visit.previous is not None:
        first = visit.previous
        visit.vehicle = first.vehicle
        days = max(1, (visit.day - first.day).days)
        visit.mileage = first.mileage + days * rng.randint(15, 90) + rng.randint(3, 150)
        return
    kind = visit.repair_type
    if kind == "warranty":
        car = people.vehicle(vocab.OWN_BRAND_FUEL, (year - 2, year))
    elif kind == "first_service":
        car = people.vehicle(vocab.OWN_BRAND_FUEL, (year, year))
    else:
        own = rng.random() < 0.75  # a brand store mostly sees its own brand
        models = vocab.OWN_BRAND if own else vocab.OTHER_BRANDS
        if kind == "repair":
            models = tuple(m for m in models if m.energy != "ev") or models
        car = people.vehicle(models, (year - 12, year))
    car.advisor = rng.choice(roster.advisors)  # an advisor owns his group of customers
    visit.vehicle = car
    visit.mileage = _mileage(rng, kind, year - car.year)


def _mileage(rng: random.Random, kind: str, age: int) -> int:
    if kind == "first_service":
        return rng.randint(2400, 7800)
    per_year = rng.randint(8000, 22000)
    mileage = age * per_year + rng.randint(300, 9000)
    if kind == "warranty":
        mileage = min(mileage, rng.randint(60000, 98000))  # still under the 100,000 km warranty
    return mileage


def _give_job(rng: random.Random, visit: Visit) -> None:
    car = visit.car
    kind = visit.repair_type
    if kind == "maintenance":
        if car.model.energy == "ev":
            visit.job = vocab.EV_SERVICE
        elif visit.mileage % 30000 >= 27000 or visit.mileage % 30000 < 3000:
            visit.job = vocab.BIG_SERVICE
        else:
            visit.job = vocab.SMALL_SERVICE
        visit.words = rng.choice(vocab.MAINTENANCE_WORDS)
        return
    if kind == "first_service":
        visit.job = vocab.FIRST_SERVICE
    elif kind == "return_repair":
        assert visit.previous is not None
        visit.job = _return_job(visit.previous.job)
    else:
        jobs = {"repair": vocab.REPAIRS, "accident": vocab.ACCIDENTS, "warranty": vocab.WARRANTY}
        choices = jobs[kind]
        if car.model.energy == "ev":
            choices = tuple(j for j in choices if j.short not in vocab.NEEDS_ENGINE)
        visit.job = rng.choice(choices)
    visit.words = visit.job.words


def _return_job(job: vocab.Job) -> vocab.Job:
    return replace(
        job,
        fault=f"返修：上次维修的{job.short}问题再次出现",
        words="上次修完没几天，又出现同样的问题了。",
        findings=f"复查{job.short}问题，上次维修未彻底排除",
        work_done=f"重新检查{job.short}问题并彻底排除，试车正常",
        labour=(("返修检查及调整", "1.0"),),
        parts=(),
    )


def _technicians(rng: random.Random, roster: Roster) -> tuple[StaffMember, ...]:
    count = 2 if rng.random() < 0.2 and len(roster.technicians) > 1 else 1
    return tuple(rng.sample(roster.technicians, count))


def _settlement(rng: random.Random, desk: Desk, visit: Visit) -> datetime:
    """When the customer paid and took the car: same day for most, days later for bodywork."""
    kind = visit.repair_type
    if kind == "accident":
        day = desk.next_day(visit.day, rng.randint(1, 4))
        return desk.moment(rng, day, "10:00", "18:00")
    if kind == "warranty" and rng.random() < 0.4:  # waiting for the part
        day = desk.next_day(visit.day, rng.randint(1, 3))
        return desk.moment(rng, day, "10:00", "18:00")
    minutes = {"maintenance": (45, 180), "first_service": (45, 150)}.get(kind, (60, 300))
    return desk.after(visit.opened, rng.randint(*minutes))


def _odometer_anomaly(rng: random.Random, visits: list[Visit]) -> None:
    """Exactly one car's later visit shows fewer kilometres than its earlier one."""
    pairs = [
        v
        for v in visits
        if v.previous is not None and v.repair_type != "return_repair" and v.mileage > 15000
    ]
    if not pairs:
        return
    later = rng.choice(pairs)
    assert later.previous is not None
    later.mileage = later.previous.mileage - rng.randint(1200, 8000)
    later.odometer_anomaly = True


def _voided(
    rng: random.Random,
    desk: Desk,
    people: People,
    roster: Roster,
    visits: list[Visit],
    mix: VisitMix,
) -> list[Visit]:
    """Mark cancelled visits; return extra work orders opened by mistake (duplicates, no-shows)."""
    single = [
        v
        for v in visits
        if v.previous is None and not v.followed and v.repair_type in ("maintenance", "repair")
    ]
    picked = rng.sample(single, min(len(single), mix.cancelled + mix.duplicates))
    for visit in picked[: mix.cancelled]:
        visit.void = "cancelled"
        visit.settled = None
    extra = []
    for original in picked[mix.cancelled :]:
        copy = replace(original, opened=original.opened + timedelta(minutes=rng.randint(2, 12)))
        copy.void, copy.settled, copy.duplicate_of = "duplicate", None, original
        extra.append(copy)
    for _ in range(mix.no_shows):
        day = rng.choice(desk.days)
        car = people.vehicle(vocab.MODELS, (desk.first.year - 8, desk.first.year))
        car.advisor = rng.choice(roster.advisors)
        visit = Visit(opened=desk.moment(rng, day, "08:30", "09:30"), repair_type="maintenance")
        visit.vehicle, visit.void, visit.settled = car, "no_show", None
        visit.mileage = _mileage(rng, "maintenance", desk.first.year - car.year)
        visit.job, visit.words = vocab.SMALL_SERVICE, "预约保养"
        visit.advisor = car.advisor
        extra.append(visit)
    return extra


def _number(visits: list[Visit]) -> None:
    """Work-order numbers as the DMS prints them: WO + yymmdd + the day's sequence."""
    seq: dict[date, int] = {}
    for visit in visits:
        seq[visit.day] = seq.get(visit.day, 0) + 1
        visit.number = f"WO{visit.day:%y%m%d}{seq[visit.day]:04d}"


def work_order_fields(visit: Visit) -> dict[str, Any]:
    """The work order of a visit as a DMS export gives it: text, staff by their Chinese names."""
    car = visit.car
    assert visit.advisor is not None
    row: dict[str, Any] = {
        "number": visit.number,
        "business_date": visit.day.isoformat(),
        "vin": car.vin,
        "plate": car.plate,
        "model": car.model.name,
        "mileage_km": str(visit.mileage),
        "customer_name": car.owner.name,
        "customer_phone": car.owner.phone,
        "service_advisor": visit.advisor.name,
        "technicians": "、".join(t.name for t in visit.technicians),
        "repair_type": REPAIR_LABELS[visit.repair_type],
        "fault_description": visit.job.fault,
        "labour_lines": visit.labour_lines(),
    }
    if visit.settled is not None:
        row["work_done"] = visit.job.work_done
        row["parts_lines"] = visit.parts_lines()
        row["settled_at"] = f"{visit.settled:%Y-%m-%d %H:%M}"
    return row


def work_order_rows(
    n: int, seed: int, month: str, staff: Sequence[StaffMember] = STAFF
) -> list[dict[str, Any]]:
    """``n`` settled work orders of ``month`` as raw DMS rows, for ``commands.file_batch``.

    For benchmarks: the same realistic mix as the demo month (revisits with growing mileage,
    warranty and first-service visits), without voids or the odometer anomaly. ``staff`` must
    be registered first (see :func:`archive.demo.load.register_staff`).
    """
    rng = random.Random(seed)
    desk = Desk(month)
    mix = VisitMix(
        visits=n,
        warranty=round(n * 2 / 15),
        first_service=round(n / 15),
        odometer_anomaly=False,
    )
    visits = plan_visits(rng, desk, People(rng), Roster(staff), mix)
    return [work_order_fields(v) for v in visits]
