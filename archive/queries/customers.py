"""Customers and vehicles as people look them up: a car by VIN, VIN ending or plate, its card
with the customer it belongs to, a customer with his cars and visits, and lists of customers
(by advisor, by last visit: what the churn and maintenance reports start from).

Read from the vehicle history projection (``ReadModels.vehicles``); plain data, English keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from archive.errors import BadInput, FieldProblem, NotFound
from archive.kinds.registry import get_kind
from projections.search.keys import digits

if TYPE_CHECKING:
    from archive.bootstrap import ReadModels

MAX_PAGE_SIZE = 500


def _named(row: dict[str, Any], names: Mapping[str, str] | None) -> dict[str, Any]:
    advisor = row.get("service_advisor")
    return {**row, "service_advisor_name": (names or {}).get(advisor, advisor) if advisor else None}


def find_vehicles(
    models: ReadModels, text: str, names: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The vehicles ``text`` names: a whole VIN, its last 6 or 8 characters, a plate with or
    without the province (``京N8K2Q7`` or ``N8K2Q7``, any plate the car carried), or the
    customer's mobile number. Empty when nothing matches."""
    key = text.strip()
    if digits(key) == key.replace(" ", "") and len(digits(key)) == 11:
        key = digits(key)  # a mobile typed with spaces
    vins = models.vehicles.vins_matching(key)
    return [_named(v, names) for v in models.vehicles.vehicles(vins)] if vins else []


def vehicle_card(
    models: ReadModels,
    vin: str,
    include_voided: bool = False,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One vehicle: its summary (owner, plate, model, visits, last visit and mileage,
    advisor, delivery) and every document recorded for it, by date, mileage checked."""
    vin = vin.strip().upper()
    summary = models.vehicles.vehicle(vin)
    visits = models.vehicles.card(vin, include_voided=include_voided)
    if summary is None and not visits:
        raise NotFound(
            "vehicle_not_found",
            f"没有 VIN {vin} 的记录；可输入完整 VIN、后 6 或 8 位、车牌号或客户手机查找",
            f"no records for VIN {vin}",
        )
    return {
        "vin": vin,
        "vehicle": _named(summary, names) if summary else None,
        "visits": [{**v.as_dict(), "kind_label": get_kind(v.kind).label} for v in visits],
    }


def customer(
    models: ReadModels, key: str, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A customer by mobile number: name, visits, last visit (date, mileage, car, advisor),
    and every car he brought."""
    phone = digits(key)
    found = models.vehicles.customer(phone) if len(phone) == 11 else None
    if found is None:
        raise NotFound(
            "customer_not_found",
            f"没有手机号为“{key.strip()[:40]}”的客户；请输入客户的 11 位手机号",
            f"no customer with mobile {key!r}",
        )
    return {
        **_named(found, names),
        "vehicle_list": [_named(v, names) for v in models.vehicles.vehicles_of(phone)],
    }


def customers(
    models: ReadModels,
    *,
    advisor: str | None = None,
    last_visit_before: date | None = None,
    last_visit_since: date | None = None,
    name: str | None = None,
    page: int = 1,
    page_size: int = 100,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Customers, last visit first: all, or those of one advisor (username), those whose
    last visit was before a day (not back since: churn) or on or after one, or whose name
    holds ``name``. Customers with no visit yet (only a delivery) have no last visit date
    and count as "before" any day."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadInput(
            "bad_page",
            f"页码从 1 开始，每页 1 至 {MAX_PAGE_SIZE} 条",
            f"page starts at 1; page_size 1..{MAX_PAGE_SIZE}",
            [FieldProblem("page", "页码不对", "bad page")],
        )
    where: list[str] = []
    params: list[Any] = []
    if advisor:
        where.append("service_advisor = ?")
        params.append(advisor)
    if last_visit_before is not None:
        where.append("(last_visit_date IS NULL OR last_visit_date < ?)")
        params.append(last_visit_before.isoformat())
    if last_visit_since is not None:
        where.append("last_visit_date >= ?")
        params.append(last_visit_since.isoformat())
    if name and name.strip():
        # Portable "contains" (instr is SQLite's, strpos PostgreSQL's; LIKE would read % and _)
        where.append("replace(name, ?, '') <> name")
        params.append(name.strip())
    total, rows = models.vehicles.customers(
        " AND ".join(where), tuple(params), limit=page_size, offset=(page - 1) * page_size
    )
    return {
        "total": total,
        "page": page,
        "page_size": page_size,
        "customers": [_named(r, names) for r in rows],
    }
