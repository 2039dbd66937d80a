"""Customers and vehicles (issue 12, item 6): a car found by VIN, VIN ending or plate (with or
without the province), its owner, visits, last visit and mileage, advisor; customers listed by
advisor and last visit; the same after a rebuild."""

from __future__ import annotations

from datetime import date

import pytest

from archive import commands
from archive.bootstrap import Archive
from archive.errors import NotFound
from archive.queries import customers as q
from archive.queries.documents import show
from tests.support import OTHER_VIN, VALID_VIN, work_order

SQLITE_ONLY = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)


def file_visits(team: Archive) -> None:
    """京N8K2Q7: three work orders of one customer; another car of another customer."""
    for n, (day, km) in enumerate([("2026-09-01", 8000), ("2026-10-02", 10100)], start=1):
        commands.file_document(
            team,
            "work_order",
            work_order(f"WO-{n:04d}", business_date=day, mileage_km=km, plate="京N8K2Q7"),
            "admin",
        )
    commands.file_document(
        team,
        "work_order",
        work_order("WO-0003", business_date="2026-11-02", mileage_km=12000, plate="京N8K2Q7"),
        "admin",
    )
    commands.file_document(
        team,
        "work_order",
        work_order(
            "WO-0004",
            vin=OTHER_VIN,
            plate="粤B12345",
            customer_name="李四",
            customer_phone="13900139000",
            business_date="2026-06-05",
            mileage_km=30000,
        ),
        "admin",
    )


def test_a_car_is_found_by_plate_vin_ending_and_phone_with_its_summary(team: Archive) -> None:
    file_visits(team)
    with team.read_models() as models:
        models.runner.catch_up()
        for typed in ("京N8K2Q7", "n8k2q7", "京N 8K2Q7", VALID_VIN[-6:], VALID_VIN[-8:].lower()):
            found = q.find_vehicles(models, typed, names={"wang": "王强"})
            assert [v["vin"] for v in found] == [VALID_VIN], typed
        (car,) = q.find_vehicles(models, "138 0013 8000")
        assert car["vin"] == VALID_VIN
        assert car["plate"] == "京N8K2Q7" and car["customer_name"] == "张三"
        assert car["visits"] == 3 and car["last_visit_date"] == "2026-11-02"
        assert car["last_visit_mileage_km"] == 12000 and car["last_visit_no"] == "WO-0003"
        assert car["service_advisor"] == "wang"
        assert q.find_vehicles(models, "京A99999") == []
        card = q.vehicle_card(models, VALID_VIN.lower())
        assert [v["number"] for v in card["visits"]] == ["WO-0001", "WO-0002", "WO-0003"]
        assert card["visits"][0]["kind_label"] == "维修委托书"
        with pytest.raises(NotFound):
            q.vehicle_card(models, "LSVAM4188C2184826")


@SQLITE_ONLY
def test_customers_by_advisor_and_last_visit_and_after_amend_and_void(team: Archive) -> None:
    file_visits(team)
    with team.read_models() as models:
        models.runner.catch_up()
        zhang = q.customer(models, "138-0013-8000", names={"wang": "王强"})
        assert zhang["name"] == "张三" and zhang["visits"] == 3
        assert zhang["service_advisor_name"] == "王强" and zhang["last_visit_vin"] == VALID_VIN
        assert [v["vin"] for v in zhang["vehicle_list"]] == [VALID_VIN]
        churned = q.customers(models, last_visit_before=date(2026, 9, 1))
        assert [c["name"] for c in churned["customers"]] == ["李四"]
        assert q.customers(models, advisor="wang")["total"] == 2
        assert q.customers(models, name="张")["total"] == 1
        # The last visit voided: the one before is the last; an amended phone moves the visit.
        commands.void_document(team, "work_order", "WO-0003", "重复开单", "admin")
        version = show(team, "work_order", "WO-0002")["version"]
        commands.amend_document(
            team,
            "work_order",
            "WO-0002",
            {"customer_phone": "13900139000", "customer_name": "李四"},
            "抄错客户",
            version,
            "admin",
        )
        models.runner.catch_up()
        zhang = q.customer(models, "13800138000")
        assert zhang["visits"] == 1 and zhang["last_visit_date"] == "2026-09-01"
        li = q.customer(models, "13900139000")
        assert li["visits"] == 2 and li["vehicles"] == 2 and li["last_visit_date"] == "2026-10-02"
        car = q.vehicle_card(models, VALID_VIN)["vehicle"]
        assert car["last_visit_no"] == "WO-0002" and car["customer_name"] == "李四"
        with pytest.raises(NotFound):
            q.customer(models, "13700000000")
        before = _summaries(models)
        models.runner.rebuild("vehicles")
        assert _summaries(models) == before


def _summaries(models) -> tuple[list, list, list]:
    return tuple(  # type: ignore[return-value]
        sorted(tuple(r) for r in models.vehicles.query(f"SELECT * FROM {table}"))
        for table in ("vehicle_records", "vehicle_summaries", "customer_summaries")
    )


def test_a_later_paper_naming_the_phone_does_not_rename_the_customer(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(business_date="2026-10-31"), "admin")
    commands.file_document(
        team,
        "quick_handling",
        {
            "number": "QH-0001", "business_date": "2026-11-02", "source": "complaint",
            "work_order_no": "WO-0001", "customer_name": "别人",
            "customer_phone": "13800138000", "description": "电话投诉", "action": "回电",
        },
        "admin",
    )  # fmt: skip
    with team.read_models() as models:
        models.runner.catch_up()
        assert q.customer(models, "13800138000")["name"] == "张三"
        assert q.vehicle_card(models, VALID_VIN)["vehicle"]["customer_name"] == "张三"
