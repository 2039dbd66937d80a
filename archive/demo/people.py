"""Who is in the demo: the desk's staff, the customers, and their cars (VINs, plates, phones)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from archive.demo import vocab
from archive.kinds.identifiers import with_check_digit


@dataclass(frozen=True)
class StaffMember:
    username: str
    name: str
    roles: tuple[str, ...]
    registration_no: str | None = None
    phone: str | None = None


# The first one registers himself and must be an admin. Only he is registered (备案) with the
# service centre, so only he may submit warranty claims; 李娜 files and calls back but may not.
STAFF: tuple[StaffMember, ...] = (
    StaffMember("admin", "王静", ("admin", "clerk"), "FAW-VW-BJ-2023-0417", "13801012345"),
    StaffMember("li.na", "李娜", ("clerk",), None, "13911023456"),
    StaffMember("zhang.wei", "张伟", ("service_advisor",), None, "13621034567"),
    StaffMember("liu.yang", "刘洋", ("service_advisor",), None, "15810045678"),
    StaffMember("chen.chen", "陈晨", ("service_advisor",), None, "18601056789"),
    StaffMember("zhao.lei", "赵磊", ("technician",), None, "13701067890"),
    StaffMember("sun.hao", "孙浩", ("technician",), None, "13501078901"),
    StaffMember("zhou.qiang", "周强", ("technician",), None, "18911089012"),
    StaffMember("wu.peng", "吴鹏", ("technician",), None, "15201090123"),
    StaffMember("zheng.jianguo", "郑建国", ("workshop_lead", "technician"), None, "13301001234"),
    StaffMember("he.li", "何丽", ("claims_clerk",), None, "13810112345"),
    StaffMember("ma.zhiqiang", "马志强", ("service_manager",), None, "13910123456"),
    StaffMember("yang.fan", "杨帆", ("sales_consultant",), None, "18810134567"),
    StaffMember("huang.ting", "黄婷", ("sales_consultant",), None, "17710145678"),
    StaffMember("guo.min", "郭敏", ("auditor",), None, "13520156789"),
)


class Roster:
    """The staff grouped by what they do; any staff list with these roles will do."""

    def __init__(self, staff: Sequence[StaffMember]) -> None:
        self.staff = tuple(staff)
        self.advisors = self._with("service_advisor")
        self.technicians = self._with("technician")
        self.clerks = self._with("clerk")
        self.sales = self._with("sales_consultant")
        registered = [s for s in self.clerks if s.registration_no]
        if not (self.advisors and self.technicians and self.clerks and registered):
            raise ValueError("the demo needs advisors, technicians and a registered clerk")
        self.registered_clerk = registered[0]
        # The clerk who does the daily filing and the callbacks: the unregistered one if any.
        self.desk_clerk = next((s for s in self.clerks if not s.registration_no), registered[0])
        self.claims_clerk = self._one("claims_clerk")
        # Signs for a technician who cannot (on leave), when the permission table lets him.
        self.workshop_lead = next(iter(self._with("workshop_lead")), None)
        self.manager = self._one("service_manager")

    def _with(self, role: str) -> tuple[StaffMember, ...]:
        return tuple(s for s in self.staff if role in s.roles)

    def _one(self, role: str) -> StaffMember:
        found = self._with(role)
        if not found:
            raise ValueError(f"the demo needs a {role}")
        return found[0]


@dataclass(frozen=True)
class Customer:
    name: str
    phone: str


@dataclass
class Vehicle:
    vin: str
    model: vocab.CarModel
    year: int  # model year
    owner: Customer
    plate: str | None  # a car still at the dealer has none
    advisor: StaffMember | None = None  # the advisor who owns this customer
    # Its last visit in the months planned before this one, for a car that comes back.
    last_seen: date | None = None
    last_mileage: int = 0


class People:
    """Makes up customers and cars, never the same VIN, plate or phone twice.

    One ``People`` serves every month of a demo: the cars of earlier months wait in
    :attr:`fleet` to come back, and a VIN's last 8 characters are unique too (the first-service
    voucher is numbered by them, and clerks look cars up by them).
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.fleet: list[Vehicle] = []  # cars seen in the months planned so far
        self._vins: set[str] = set()
        self._suffixes: set[str] = set()
        self._plates: set[str] = set()
        self._phones: set[str] = set()

    def name(self) -> str:
        rng = self.rng
        surname = rng.choice(vocab.SURNAMES)
        if rng.random() < 0.45:
            return surname + rng.choice(vocab.GIVEN_TWO)
        given = rng.choice(vocab.GIVEN_ONE)
        if rng.random() < 0.4:
            given += rng.choice(vocab.GIVEN_ONE)
        return surname + given

    def phone(self) -> str:
        while True:
            number = self.rng.choice(vocab.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def customer(self, company_share: float = 0.04) -> Customer:
        if self.rng.random() < company_share:
            return Customer(self.rng.choice(vocab.COMPANIES), self.phone())
        return Customer(self.name(), self.phone())

    def vin(self, model: vocab.CarModel, year: int) -> str:
        """A VIN with a valid ISO 3779 check digit, unique in this demo."""
        year_code = vocab.YEAR_CODES[(year - 2010) % 30]
        while True:
            plant = self.rng.choice(model.plants)
            serial = f"{self.rng.randrange(10**6):06d}"
            vin = with_check_digit(model.wmi + model.vds + "0" + year_code + plant + serial)
            if vin not in self._vins and vin[-8:] not in self._suffixes:
                self._vins.add(vin)
                self._suffixes.add(vin[-8:])
                return vin

    def plate(self, model: vocab.CarModel) -> str:
        rng = self.rng
        while True:
            areas = [codes for codes, _ in vocab.PLATE_AREAS]
            weights = [weight for _, weight in vocab.PLATE_AREAS]
            prefix = rng.choice(rng.choices(areas, weights)[0])
            if model.energy != "fuel":  # green plate: D (electric) or F (hybrid) + 5 digits
                body = ("D" if model.energy == "ev" else "F") + f"{rng.randrange(10**5):05d}"
            else:
                chars = [rng.choice("0123456789") for _ in range(5)]
                for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):  # some plates carry letters
                    chars[rng.randrange(5)] = rng.choice(vocab.PLATE_LETTERS)
                body = "".join(chars)
            plate = prefix + body
            if plate not in self._plates:
                self._plates.add(plate)
                return plate

    def vehicle(self, models: Sequence[vocab.CarModel], years: tuple[int, int]) -> Vehicle:
        model = self.rng.choice(models)
        year = self.rng.randint(*years)
        return Vehicle(
            vin=self.vin(model, year),
            model=model,
            year=year,
            owner=self.customer(),
            plate=self.plate(model),
        )

    def new_car(self, year: int) -> Vehicle:
        """A car delivered this month: own brand, this model year, no plate yet."""
        model = self.rng.choice(vocab.OWN_BRAND)
        return Vehicle(
            vin=self.vin(model, year),
            model=model,
            year=year,
            owner=self.customer(company_share=0.02),
            plate=None,
        )
