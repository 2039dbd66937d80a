"""The warranty side of the month's papers: off-site service orders and the warranty claims
(三包索赔单) of repairs under warranty, filed, signed and submitted to the service centre.

Mixed into :class:`archive.demo.paperwork.Paperwork`, whose helpers (``new_paper``,
``later``, ``clerk``, the random source and rates) these builders use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from archive.demo import vocab
from archive.demo.desk import is_working
from archive.demo.paper import Paper
from archive.demo.people import StaffMember, Vehicle
from archive.demo.visits import Visit


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


class WarrantyPapers:
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
        sequences = self.sequences
        first_claim_no = rng.randint(10000, 30000)  # used by the first month only
        for visit in warranty:
            assert visit.settled is not None
            month = f"{visit.settled:%y%m}"
            number = f"SP{month}-{sequences.next('SP' + month):04d}"
            paper = self._claim(number, visit, offsite_km.get(visit.number), visit in late)
            # The manufacturer's claim numbers run on across the months, with gaps (other
            # dealers' claims in between).
            step = rng.randint(1, 9)
            claim_no = sequences.next("FVC", start=first_claim_no + step, step=step)
            if visit not in pending:
                self._submit(paper, f"FVC{month}{claim_no:06d}", visit in late)
            if visit in late:
                self.late_claims.append(number)

    def add_claim_from_before(self) -> None:
        """A warranty repair done on paper two days before the system was taken into use: its
        claim, found in a drawer, is filed late naming a work order the archive does not hold,
        with the reason (flagged for the auditor)."""
        rng = self.rng
        day = self.desk.first - timedelta(days=2)
        year = self.desk.first.year
        visit = Visit(opened=self.desk.at(day, 9, 30), repair_type="warranty")
        visit.vehicle = self.people.vehicle(vocab.OWN_BRAND_FUEL, (year - 2, year))
        visit.mileage = rng.randint(20000, 60000)
        visit.job = rng.choice(vocab.WARRANTY)
        visit.advisor = rng.choice(self.roster.advisors)
        visit.technicians = (rng.choice(self.roster.technicians),)
        visit.settled = self.desk.at(day, 16, 10)
        visit.number = f"WO{day:%y%m%d}9001"
        month = f"{day:%y%m}"
        number = f"SP{month}-{self.sequences.next('SP' + month):04d}"
        paper = self._claim(number, visit, None, late=True)
        paper.unlinked_reason = "系统启用前手工开具的纸质委托书，原件存档案室，系统中无此委托书"
        self._submit(paper, f"FVC{month}{rng.randint(900000, 999999)}", late=True)

    def add_on_behalf(self, visits: list[Visit], count: int) -> None:
        """A few work orders signed by the workshop lead for the named technician, who is on
        leave (flagged for the auditor)."""
        lead = self.roster.workshop_lead
        if lead is None:
            return
        rng = self.rng
        candidates = [
            self.work_orders[v.number]
            for v in visits
            if not v.void and len(v.technicians) == 1 and v.technicians[0] != lead
        ]
        for paper in rng.sample(candidates, min(count, len(candidates))):
            signs = [s for s in paper.steps if s.action == "sign" and s.role == "technician"]
            for step in signs:
                paper.steps.remove(step)
                paper.sign(
                    "technician",
                    lead.username,
                    step.at,
                    on_behalf_of=step.actor,
                    reason="维修技师休假，由车间主管代签",
                )

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
            order = self.work_orders.get(visit.number)  # the claim names it: filed after it
            filed = self.later(
                max(visit.settled, order.filed_at if order else visit.settled), 20, 900
            )
        paper = self.new_paper("warranty_claim", number, fields, clerk, filed)
        paper.sign("customer", clerk, self.later(filed, 2, 10), customer=car.owner.name)
        self._maybe_scan(paper, clerk)
        for technician in visit.technicians:  # each technician the claim names signs
            paper.sign("technician", technician.username, self.later(filed, 30, 600))
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
