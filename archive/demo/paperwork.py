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
from archive.demo.desk import Desk
from archive.demo.numbering import Sequences
from archive.demo.paper import Paper
from archive.demo.people import People, Roster, StaffMember, Vehicle
from archive.demo.visits import Visit, work_order_fields
from archive.demo.warranty import WarrantyPapers

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


class Paperwork(WarrantyPapers):
    def __init__(
        self,
        rng: random.Random,
        desk: Desk,
        people: People,
        roster: Roster,
        rates: Rates,
        sequences: Sequences | None = None,
    ) -> None:
        self.rng = rng
        self.sequences = sequences or Sequences()
        self.desk = desk
        self.people = people
        self.roster = roster
        self.rates = rates
        self.papers: list[Paper] = []
        self.work_orders: dict[str, Paper] = {}
        self.diagnostics: dict[str, Paper] = {}
        self.deliveries: list[tuple[Paper, Vehicle]] = []  # warranty registrations
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
            if not visit.void:  # a live sheet would keep its order from being voided
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
        voided = self.later(filed, 10, 120)
        drafted = self.desk.at(visit.day, 18)  # the day's report would list it: void it before
        if filed < drafted <= voided:
            voided = filed + (drafted - filed) / 2
        paper.void(voided, clerk, reason)

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
        self.deliveries.append((paper, car))
        paper.sign("customer", clerk, self.later(filed, 2, 10), customer=car.owner.name)
        self._maybe_scan(paper, clerk)
        paper.sign("sales_consultant", sales.username, self.later(filed, 10, 900))

    # -- daily reports ----------------------------------------------------------------------------

    def add_daily_reports(self, visits: list[Visit], max_lines: int = 450) -> None:
        """One report per working day, drafted by the system at 18:00 from the work orders of
        the day filed by then (a car settled later is not on it), signed before leaving.

        A day of more orders than a report takes (500 lines) is split; ``max_lines`` leaves room
        for a duplicate order the draft still lists because it is voided only after 18:00."""
        rng = self.rng
        by_day: dict[date, list[Visit]] = {}
        for visit in visits:
            if not visit.void:
                by_day.setdefault(visit.day, []).append(visit)
        for day in self.desk.days:
            filed = self.desk.at(day, 18, rng.randint(0, 12))
            today = [v for v in by_day.get(day, []) if self.work_orders[v.number].filed_at < filed]
            chunks = [today[i : i + max_lines] for i in range(0, len(today), max_lines)] or [[]]
            notes = rng.choice(vocab.DAILY_NOTES)
            for part, chunk in enumerate(chunks, start=1):
                # The number the system proposes (DR + the day); a long day's parts -1, -2 ...
                number = f"DR{day:%Y%m%d}" + (f"-{part}" if len(chunks) > 1 else "")
                paper = self._daily_report(number, day, chunk, notes, filed)
                paper.drafted = (part, len(chunks))

    def _daily_report(
        self, number: str, day: date, visits: list[Visit], notes: str, filed: datetime
    ) -> Paper:
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
        paper = self.new_paper("daily_report", number, fields, clerk, filed)
        paper.sign("clerk", clerk, filed + timedelta(minutes=rng.randint(2, 6)))
        if rng.random() < 0.85:  # the manager signs before leaving, or first thing next morning
            signed = filed + timedelta(minutes=rng.randint(8, 16))
        else:
            signed = self.desk.moment(rng, self.desk.next_day(day), "08:35", "09:30")
        paper.sign("service_manager", self.roster.manager.username, signed)
        return paper


def misdial(phone: str) -> str:
    """The same mobile number with two neighbouring digits swapped (never the prefix)."""
    for i in range(5, 10):
        if phone[i] != phone[i + 1]:
            return phone[:i] + phone[i + 1] + phone[i] + phone[i + 2 :]
    return phone[:10] + str((int(phone[10]) + 1) % 10)
