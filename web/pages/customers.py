"""车历卡 and customers: a car found by VIN, its last 6 or 8 characters, a plate with or without
the province (``京N8K2Q7`` or ``N8K2Q7``) or the customer's mobile; a customer's page with his
cars, visits, last visit and mileage, and advisor (``archive.queries.customers``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from archive.errors import NotFound
from archive.kinds.registry import get_kind
from archive.queries import customers as people
from archive.queries import staff_names
from web.auth import PageUser, archive_of
from web.pages.common import models_of
from web.templating import render

router = APIRouter()


@router.get("/vehicles")
def vehicle(request: Request, user: PageUser, q: str = "", vin: str = "") -> Response:
    """One box: a single match opens its card, several are listed to choose from."""
    models = models_of(request)
    models.runner.wait_for(timeout=2)
    names = staff_names(archive_of(request))
    key = (q or vin).strip()[:40]
    card: dict[str, Any] | None = None
    matches: list[dict[str, Any]] = []
    if key:
        matches = people.find_vehicles(models, key, names)
        if len(matches) == 1 or (len(key) == 17 and not matches):
            chosen = matches[0]["vin"] if matches else key
            try:
                card = people.vehicle_card(models, chosen, include_voided=True, names=names)
            except NotFound:
                card = None
    return render(
        request,
        "vehicle.html",
        {"key": key, "card": card, "matches": matches, "get_kind": get_kind},
    )


@router.get("/customers")
def customer_list(request: Request, user: PageUser, q: str = "", page: int = 1) -> Response:
    """Customers by name (or all), last visit first; a mobile number opens the customer."""
    models = models_of(request)
    models.runner.wait_for(timeout=2)
    names = staff_names(archive_of(request))
    key = q.strip()[:40]
    digits = "".join(c for c in key if c.isdigit())
    if len(digits) == 11 and not key.strip(" -0123456789"):  # a mobile, spaced or not
        return customer_page(request, digits, user)
    found = people.customers(models, name=key or None, page=max(page, 1), names=names)
    return render(request, "customers.html", {"key": key, "found": found})


@router.get("/customers/{phone}")
def customer_page(request: Request, phone: str, user: PageUser) -> Response:
    models = models_of(request)
    models.runner.wait_for(timeout=2)
    names = staff_names(archive_of(request))
    found = people.customer(models, phone, names)
    visits = []
    for car in found["vehicle_list"]:
        card = people.vehicle_card(models, car["vin"], names=names)
        visits.extend({**v, "vin": car["vin"]} for v in card["visits"] if v["kind"] == "work_order")
    visits.sort(key=lambda v: (v["business_date"] or "", v["number"]), reverse=True)
    return render(request, "customer.html", {"c": found, "visits": visits})
