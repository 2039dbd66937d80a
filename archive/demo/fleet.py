"""Cars that come back in a later month: a store's customers return for their next service.

One :class:`archive.demo.people.People` serves every month of a demo; after a month is planned
its cars join ``people.fleet`` (:func:`remember_cars`), and some first visits of the next
months are theirs (:class:`Returning`), never with a smaller odometer reading.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from archive.demo.people import People

if TYPE_CHECKING:
    from archive.demo.visits import Visit

# The visits a known car comes back for (a warranty repair or a first service is planned
# for a car of the right age instead).
COMING_BACK = ("maintenance", "repair", "accident")


class Returning:
    """Cars of earlier months coming back for a service, a repair or bodywork, each at most
    once a month, with the odometer grown since their last visit."""

    def __init__(self, rng: random.Random, people: People, share: float) -> None:
        self.rng = rng
        self.fleet = people.fleet
        self.share = share if people.fleet else 0.0
        self.taken: set[str] = set()

    def give_car(self, visit: Visit) -> bool:
        rng = self.rng
        if not self.share or visit.previous is not None or visit.repair_type not in COMING_BACK:
            return False
        if rng.random() >= self.share:
            return False
        for _ in range(5):  # a few tries; else a new customer
            car = rng.choice(self.fleet)
            if car.vin in self.taken or car.last_seen is None or car.last_seen >= visit.day:
                continue
            if visit.repair_type == "repair" and car.model.energy == "ev":
                continue  # the repair jobs need an engine
            self.taken.add(car.vin)
            visit.vehicle = car
            days = (visit.day - car.last_seen).days
            visit.mileage = car.last_mileage + days * rng.randint(15, 90) + rng.randint(3, 150)
            return True
        return False


def remember_cars(people: People, visits: list[Visit]) -> None:
    """After a month is planned: its cars join the fleet, with their last visit and mileage."""
    known = {car.vin for car in people.fleet}
    for visit in sorted(visits, key=lambda v: v.opened):
        if visit.void or visit.vehicle is None:
            continue
        car = visit.car
        car.last_seen = visit.day
        car.last_mileage = max(car.last_mileage, visit.mileage)
        if car.vin not in known:
            known.add(car.vin)
            people.fleet.append(car)
