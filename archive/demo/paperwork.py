"""The month's papers of every kind, built from the visits: who files them, who signs, when.

The clerk files each paper on or shortly after its business date during working hours; staff
sign within hours or days; the customer's signature is recorded by the clerk from the signed
slip. Builders run in an order where later papers can refer to earlier ones (a claim to its
work order, a callback to its quick-handling form).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from archive.demo import vocab
from archive.demo.desk import Desk, is_working
from archive.demo.paper import Paper
from archive.demo.people import People, Roster, StaffMember, Vehicle
from archive.demo.visits import Visit, work_order_fields

VOID_REASONS = {
    "cancelled": "客户取消维修，车辆未施工",
    "no_show": "预约客户未到店，预开委托书作废",
}


@dataclass(frozen=True)
class Rates:
    late: float  # share of claims filed and submitted late, and of callbacks made late
    unsubmitted: float
    unscanned: float
    callbacks: float
    resign: float


@dataclass(frozen=True)
class Trip:
    number: str  # 服务令号
    departure: datetime
    back: datetime
    car: Vehicle
    fault: str
    technicians: tuple[StaffMember, ...]
    odometer: int  # the service van's, on leaving
    distance: int  # kilometres there and back, by the handheld's GPS track


class Paperwork:
    def __init__(
        self, rng: random.Random, desk: Desk, people: People, roster: Roster, rates: Rates
    ) -> None:
        self.rng = rng
        self.desk = desk
        self.people = people
        self.roster = roster
        self.rates = rates
        self.papers: list[Paper] = []
        self.work_orders: dict[str, Paper] = {}
        self.diagnostics: dict[str, Paper] = {}
        self.late_claims: list[str] = []
        self.late_callbacks: list[str] = []

    # -- helpers ------------------------------------------------------------------------------

    def new_paper(
        self, kind: str, number: str, fields: dict[str, Any], filer: str, at: datetime
    ) -> Paper:
        paper = Paper(kind, number, fields, filer, at)
        self.papers.append(paper)
        return paper

    def clerk(self) -> StaffMember:
        """Most everyday filing is done by the desk clerk, the rest by the registered one."""
        if self.rng.random() < 0.7:
            return self.roster.desk_clerk
        return self.roster.registered_clerk

    def later(self, moment: datetime, low: int, high: int) -> datetime:
        """Between ``low`` and ``high`` working minutes after ``moment``."""
        return self.desk.after(moment, self.rng.randint(low, high))

    def _maybe_scan(self, paper: Paper, actor: str) -> None:
        if self.rng.random() >= self.rates.unscanned:
            paper.scan(self.later(paper.filed_at, 3, 120), actor)

    # -- work orders, diagnostic sheets, first-service vouchers ---------------------------------

    def add_work_orders(self, visits: list[Visit]) -> None:
        by_number = {v.number: v for v in visits}
        for visit in visits:
            fields = work_order_fields(visit)
            number = fields.pop("number")
            if visit.void:
                self._voided_work_order(visit, fields, number)
            else:
                self._settled_work_order(visit, fields, number)
            if visit.void in (None, "cancelled"):
                self._diagnostic_sheet(visit)
            if visit.repair_type == "first_service" and not visit.void:
                self._first_service_voucher(visit)
        assert len(by_number) == len(visits), "work-order numbers repeat"

    def _settled_work_order(self, visit: Visit, fields: dict[str, Any], number: str) -> None:
        assert visit.settled is not None and visit.advisor is not None
        clerk = self.clerk().username
        filed = self.later(visit.settled, 10, 120)
        paper = self.new_paper("work_order", number, fields, clerk, filed)
        self.work_orders[number] = paper
        paper.sign("customer", clerk, self.later(filed, 1, 8), customer=visit.car.owner.name)
        paper.sign("service_advisor", visit.advisor.username, self.later(filed, 5, 360))
        for tech in visit.technicians[: 2 if self.rng.random() < 0.3 else 1]:
            paper.sign("technician", tech.username, self.later(filed, 20, 1200))

    def _voided_work_order(self, visit: Visit, fields: dict[str, Any], number: str) -> None:
        clerk = self.clerk().username
        filed = self.later(visit.opened, 15, 60)
        paper = self.new_paper("work_order", number, fields, clerk, filed)
        self.work_orders[number] = paper
        if visit.void == "duplicate":
            assert visit.duplicate_of is not None
            reason = f"重复开单，与{visit.duplicate_of.number}重复"
        else:
            reason = VOID_REASONS[visit.void or ""]
        paper.void(self.later(filed, 10, 120), clerk, reason)

    def _diagnostic_sheet(self, visit: Visit) -> None:
        assert visit.advisor is not None
        wo = self.work_orders[visit.number]
        fields: dict[str, Any] = {
            "business_date": visit.day.isoformat(),
            "work_order_no": visit.number,
            "vin": visit.car.vin,
            "customer_words": visit.words,
            "advisor_findings": visit.job.findings,
            "service_advisor": visit.advisor.name,
        }
        if visit.job.occurs_when:
            fields["occurs_when"] = visit.job.occurs_when
        if visit.job.frequency:
            fields["frequency"] = visit.job.frequency
        number = "WZ" + visit.number[2:]
        filed = self.desk.after(wo.filed_at, 2)  # filed with its work order
        paper = self.new_paper("diagnostic_sheet", number, fields, wo.filer, filed)
        self.diagnostics[visit.number] = paper
        paper.sign("service_advisor", visit.advisor.username, self.later(paper.filed_at, 5, 600))

    def _first_service_voucher(self, visit: Visit) -> None:
        assert visit.advisor is not None
        wo = self.work_orders[visit.number]
        car = visit.car
        fields = {
            "business_date": visit.day.isoformat(),
            "vin": car.vin,
            "plate": car.plate,
            "mileage_km": visit.mileage,
            "customer_name": car.owner.name,
            "work_order_no": visit.number,
            "service_advisor": visit.advisor.name,
        }
        # The voucher number is printed in the warranty booklet: SB + the VIN's last 8.
        number = f"SB{car.vin[-8:]}"
        filed = self.desk.after(wo.filed_at, 4)
        paper = self.new_paper("first_service_voucher", number, fields, wo.filer, filed)
        self._maybe_scan(paper, wo.filer)
        paper.sign("service_advisor", visit.advisor.username, self.later(paper.filed_at, 5, 600))

    # -- off-site service ---------------------------------------------------------------------

    def add_offsite(self, visits: list[Visit], count: int) -> dict[str, tuple[int, int]]:
        """Off-site trips; half of them are warranty repairs done at the customer's place.

        Returns the claimed and verified kilometres of each warranty work order repaired off
        site, for its claim. Run before the work orders: it moves their settlement time.
        """
        rng = self.rng
        warranty = [v for v in visits if v.repair_type == "warranty" and not v.void]
        linked = rng.sample(warranty, min(count // 2, len(warranty)))
        trips: list[tuple[datetime, Vehicle, Visit | None]] = [
            (v.opened + timedelta(minutes=rng.randint(25, 40)), v.car, v) for v in linked
        ]
        year = self.desk.first.year
        for _ in range(count - len(linked)):  # roadside help, no warranty
            car = self.people.vehicle(vocab.MODELS, (year - 8, year))
            day = rng.choice(self.desk.days)
            trips.append((self.desk.moment(rng, day, "09:00", "16:00"), car, None))
        trips.sort(key=lambda trip: trip[0])
        odometer = 48000 + rng.randint(0, 999)  # the service van's
        kilometres: dict[str, tuple[int, int]] = {}
        for index, (departure, car, visit) in enumerate(trips, start=1):
            distance = 2 * rng.randint(12, 45) + rng.randint(0, 9)
            claimed = distance + (rng.randint(3, 15) if rng.random() < 0.3 else 0)
            back = departure + timedelta(minutes=rng.randint(90, 240))
            number = f"FWL{departure:%y%m}{index:03d}"
            if visit is not None:
                fault, technicians = visit.job.fault, visit.technicians
            else:
                fault = rng.choice(vocab.ROADSIDE_FAULTS)
                technicians = tuple(rng.sample(self.roster.technicians, 1 + (rng.random() < 0.3)))
            trip = Trip(number, departure, back, car, fault, technicians, odometer, distance)
            self._offsite_order(trip, claimed)
            odometer += distance + rng.randint(20, 300)  # the van runs errands in between
            if visit is not None:
                visit.settled = self.later(back, 20, 90)
                kilometres[visit.number] = (claimed, distance)
        return kilometres

    def _offsite_order(self, trip: Trip, claimed: int) -> None:
        rng = self.rng
        clerk = self.clerk().username
        car, departure, odometer, distance = trip.car, trip.departure, trip.odometer, trip.distance
        fields = {
            "business_date": departure.date().isoformat(),
            "vin": car.vin,
            "plate": car.plate,
            "customer_name": car.owner.name,
            "customer_phone": car.owner.phone,
            "place": rng.choice(vocab.OFFSITE_PLACES),
            "technicians": "、".join(t.name for t in trip.technicians),
            "handheld_terminal_id": rng.choice(vocab.HANDHELD_TERMINALS),
            "fault_description": trip.fault,
        }
        filed = departure - timedelta(minutes=rng.randint(12, 20))
        paper = self.new_paper("offsite_service", trip.number, fields, clerk, filed)
        # The technician may leave only once the clerk has signed for the handheld terminal.
        paper.sign("clerk", clerk, departure - timedelta(minutes=rng.randint(2, 8)))
        paper.depart(departure, clerk, fields["handheld_terminal_id"], odometer)
        completed = self.later(trip.back, 5, 40)
        # The verified distance is checked against the handheld's GPS track.
        paper.return_trip(completed, clerk, odometer + distance, claimed, distance)
        paper.sign("technician", trip.technicians[0].username, self.later(completed, 10, 120))

    # -- warranty claims ------------------------------------------------------------------------

    def add_claims(self, visits: list[Visit], offsite_km: dict[str, tuple[int, int]]) -> None:
        rng = self.rng
        warranty = sorted(
            (v for v in visits if v.repair_type == "warranty" and not v.void),
            key=lambda v: v.settled or v.opened,
        )
        wanted = min(len(warranty), max(1, round(len(warranty) * self.rates.late)))
        late = set(rng.sample(warranty, wanted))
        rest = [v for v in warranty if v not in late]
        pending = set(
            rng.sample(rest, min(len(rest), round(len(warranty) * self.rates.unsubmitted)))
        )
        seq: dict[str, int] = {}
        claim_no = rng.randint(10000, 30000)
        for visit in warranty:
            assert visit.settled is not None
            month = f"{visit.settled:%y%m}"
            seq[month] = seq.get(month, 0) + 1
            number = f"SP{month}-{seq[month]:04d}"
            paper = self._claim(number, visit, offsite_km.get(visit.number), visit in late)
            claim_no += rng.randint(1, 9)
            if visit not in pending:
                self._submit(paper, f"FVC{month}{claim_no:06d}", visit in late)
            if visit in late:
                self.late_claims.append(number)

    def _claim(
        self, number: str, visit: Visit, kilometres: tuple[int, int] | None, late: bool
    ) -> Paper:
        assert visit.settled is not None
        rng = self.rng
        car = visit.car
        repaired = visit.settled.date()
        hours = sum((Decimal(h) for _, h in visit.job.labour), Decimal("0"))
        fee = hours * vocab.CLAIM_LABOUR_RATE
        fields: dict[str, Any] = {
            "business_date": repaired.isoformat(),
            "work_order_no": visit.number,
            "vin": car.vin,
            "plate": car.plate,
            "model": car.model.name,
            "mileage_km": visit.mileage,
            "customer_name": car.owner.name,
            "customer_phone": car.owner.phone,
            "technicians": "、".join(t.name for t in visit.technicians),
            "fault_description": visit.job.fault,
            "handling_process": visit.job.handling,
            "parts": claim_parts(visit.job),
            "labour_hours": str(hours),
            "report_deadline": (repaired + timedelta(days=7)).isoformat(),
        }
        if kilometres:
            fields["offsite_mileage_claimed"], fields["offsite_mileage_verified"] = kilometres
            fee += kilometres[1] * vocab.OFFSITE_RATE
        fields["service_fee"] = str(fee.quantize(Decimal("0.01")))
        clerk = self.roster.registered_clerk.username  # only a registered clerk files claims
        if late:  # found in a drawer more than a week after the repair
            day = self.desk.on_or_after(repaired + timedelta(days=rng.randint(8, 11)))
            filed = self.desk.moment(rng, day, "09:00")
        else:
            filed = self.later(visit.settled, 20, 900)
        paper = self.new_paper("warranty_claim", number, fields, clerk, filed)
        paper.sign("customer", clerk, self.later(filed, 2, 10), customer=car.owner.name)
        self._maybe_scan(paper, clerk)
        paper.sign("technician", visit.technicians[0].username, self.later(filed, 30, 600))
        paper.sign("claims_clerk", self.roster.claims_clerk.username, self.later(filed, 60, 900))
        paper.sign("service_manager", self.roster.manager.username, self.later(filed, 120, 1500))
        return paper

    def _submit(self, paper: Paper, claim_no: str, late: bool) -> None:
        """Online, by the registered clerk, once the claims clerk has checked it."""
        checked = next(s.at for s in paper.steps if s.role == "claims_clerk")
        at = self.later(max(checked, paper.filed_at), 10, 240)
        if not late:
            deadline = date.fromisoformat(paper.fields["report_deadline"])
            while not is_working(deadline):
                deadline -= timedelta(days=1)
            at = max(min(at, self.desk.at(deadline, 17)), paper.filed_at + timedelta(minutes=30))
        paper.submit(at, self.roster.registered_clerk.username, claim_no)

    # -- new cars: PDI sheet and warranty registration ---------------------------------------------

    def add_deliveries(self, count: int) -> None:
        rng = self.rng
        days = self.desk.days[:-2] or self.desk.days
        cars = []
        for _ in range(count):
            car = self.people.new_car(self.desk.first.year)
            inspected = rng.choice(days)
            delivered = self.desk.next_day(inspected, rng.randint(0, 2))
            cars.append((inspected, delivered, car, rng.choice(self.roster.sales)))
        cars.sort(key=lambda c: (c[0], c[1]))
        for index, (inspected, delivered, car, sales) in enumerate(cars, start=1):
            self._pdi_sheet(f"PDI{inspected:%y%m}-{index:03d}", inspected, delivered, car, sales)
            self._registration(f"BX{delivered:%y%m}-{index:03d}", delivered, car, sales)

    def _pdi_sheet(
        self, number: str, inspected: date, delivered: date, car: Vehicle, sales: StaffMember
    ) -> None:
        rng = self.rng
        inspector = rng.choice(self.roster.technicians)
        noted = rng.choice(list(vocab.PDI_NOTES)) if rng.random() < 0.3 else None
        checklist = [
            {"item": item, "ok": "√", **({"note": vocab.PDI_NOTES[item]} if item == noted else {})}
            for item in vocab.PDI_ITEMS
        ]
        fields = {
            "business_date": inspected.isoformat(),
            "vin": car.vin,
            "model": car.model.name,
            "inspector": inspector.name,
            "sales_consultant": sales.name,
            "delivery_date": delivered.isoformat(),
            "checklist": checklist,
        }
        clerk = self.clerk().username
        filed = self.desk.moment(rng, inspected, "15:00", "18:00")
        paper = self.new_paper("pdi_sheet", number, fields, clerk, filed)
        self._maybe_scan(paper, clerk)
        paper.sign("technician", inspector.username, self.later(filed, 10, 600))
        paper.sign("sales_consultant", sales.username, self.later(filed, 10, 900))

    def _registration(self, number: str, delivered: date, car: Vehicle, sales: StaffMember) -> None:
        rng = self.rng
        fields = {
            "business_date": delivered.isoformat(),
            "vin": car.vin,
            "model": car.model.name,
            "customer_name": car.owner.name,
            "customer_phone": car.owner.phone,
            "purchase_date": (delivered - timedelta(days=rng.randint(2, 20))).isoformat(),
            "delivery_date": delivered.isoformat(),
            "mileage_km": rng.randint(5, 30),
            "sales_consultant": sales.name,
        }
        clerk = self.clerk().username
        handed_over = self.desk.moment(rng, delivered, "10:00", "17:30")
        filed = self.later(handed_over, 30, 1200)
        paper = self.new_paper("warranty_registration", number, fields, clerk, filed)
        paper.sign("customer", clerk, self.later(filed, 2, 10), customer=car.owner.name)
        self._maybe_scan(paper, clerk)
        paper.sign("sales_consultant", sales.username, self.later(filed, 10, 900))

    # -- daily reports ----------------------------------------------------------------------------

    def add_daily_reports(self, visits: list[Visit], max_lines: int = 500) -> None:
        """One report per working day from that day's work orders, signed before leaving."""
        rng = self.rng
        by_day: dict[date, list[Visit]] = {}
        for visit in visits:
            if not visit.void:
                by_day.setdefault(visit.day, []).append(visit)
        for day in self.desk.days:
            today = by_day.get(day, [])
            chunks = [today[i : i + max_lines] for i in range(0, len(today), max_lines)] or [[]]
            for part, chunk in enumerate(chunks, start=1):
                number = f"RB{day:%Y%m%d}" + (f"-{part}" if len(chunks) > 1 else "")
                self._daily_report(number, day, chunk, rng.choice(vocab.DAILY_NOTES))

    def _daily_report(self, number: str, day: date, visits: list[Visit], notes: str) -> None:
        rng = self.rng
        lines = [
            {
                "work_order_no": v.number,
                "plate": v.car.plate,
                "repair_type": v.repair_type,
                "amount": str(v.amount()),
            }
            for v in visits
        ]
        fields: dict[str, Any] = {
            "business_date": day.isoformat(),
            "lines": lines,
            "work_order_count": len(lines),
            "revenue": str(sum((v.amount() for v in visits), Decimal("0.00"))),
        }
        if notes:
            fields["notes"] = notes
        clerk = self.clerk().username
        filed = self.desk.at(day, 18, rng.randint(0, 12))
        paper = self.new_paper("daily_report", number, fields, clerk, filed)
        paper.sign("clerk", clerk, filed + timedelta(minutes=rng.randint(2, 6)))
        if rng.random() < 0.85:  # the manager signs before leaving, or first thing next morning
            signed = filed + timedelta(minutes=rng.randint(8, 16))
        else:
            signed = self.desk.moment(rng, self.desk.next_day(day), "08:35", "09:30")
        paper.sign("service_manager", self.roster.manager.username, signed)


def claim_parts(job: vocab.Job) -> list[dict[str, Any]]:
    return [
        {
            "part_no": part.part_no,
            "name": part.name,
            "qty": qty,
            "damaged_part_returned": part.returnable,
        }
        for part, qty in job.parts
    ]


def misdial(phone: str) -> str:
    """The same mobile number with two neighbouring digits swapped (never the prefix)."""
    for i in range(5, 10):
        if phone[i] != phone[i + 1]:
            return phone[:i] + phone[i + 1] + phone[i] + phone[i + 2 :]
    return phone[:10] + str((int(phone[10]) + 1) % 10)
