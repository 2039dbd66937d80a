"""Search through the projection, on documents filed through the write path, with every
engine: each test runs once per engine, so the engines answer these queries alike."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace

import pytest

from archive import commands
from archive.bootstrap import Archive, ReadModels, open_read_models
from archive.config import SEARCH_ENGINES
from archive.errors import Conflict
from tests.support import OTHER_VIN, FakeClock, png_bytes, warranty_claim, work_order


@pytest.fixture(params=SEARCH_ENGINES)
def models(team: Archive, request: pytest.FixtureRequest) -> Iterator[ReadModels]:
    # (The postgres engine on a SQLite archive is no combination: conftest drops it.)
    team.settings = replace(team.settings, search_engine=request.param)
    opened = open_read_models(team)
    try:
        yield opened
    finally:
        opened.close()


def numbers(models: ReadModels, query: str) -> list[str]:
    models.runner.wait_for(timeout=30)
    result = models.search.search(query, page_size=100)
    return sorted(h.number for h in result.hits)


@pytest.fixture
def filed(team: Archive, clock: FakeClock) -> Archive:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    commands.file_document(
        team,
        "work_order",
        work_order(
            "WO-2",
            vin=OTHER_VIN,
            plate="粤BD12345",
            customer_name="李四",
            customer_phone="13912345678",
            fault_description="空调不制冷，出风口有异味",
            work_done="清洗蒸发箱",
            labour_lines=[{"description": "空调检修", "amount": "80"}],
            parts_lines=None,
            technicians=None,
            business_date="2026-11-20",
        ),
        "clerk2",
    )
    claim = warranty_claim("WC-1", work_order_no="WO-1")
    commands.file_document(team, "warranty_claim", claim, "admin")
    clock.advance(hours=1)
    return team


def test_chinese_sub_words_and_filters(filed: Archive, models: ReadModels) -> None:
    assert numbers(models, "刹车") == ["WO-1"]  # 刹车片磨损 holds 刹车
    assert numbers(models, "刹车片") == ["WO-1"]
    assert numbers(models, "异味") == ["WO-2"]
    assert numbers(models, "故障灯") == ["WC-1"]
    assert numbers(models, "发动机 kind:warranty_claim") == ["WC-1"]
    assert numbers(models, "发动机 kind:work_order") == []
    assert numbers(models, "kind:三包索赔单") == ["WC-1"]
    assert numbers(models, "month:2026-11 kind:work_order") == ["WO-1", "WO-2"]
    assert numbers(models, "date:2026-11-15..2026-11-30") == ["WO-2"]
    assert numbers(models, "date:2026-11-03") == ["WC-1", "WO-1"]


def test_vehicle_and_customer_lookups(filed: Archive, models: ReadModels) -> None:
    assert numbers(models, "vin:042788") == ["WC-1", "WO-1"]
    assert numbers(models, "042788") == ["WC-1", "WO-1"]  # typed in the plain search box
    assert numbers(models, "vin:C2184825") == ["WO-2"]
    assert numbers(models, f"vin:{OTHER_VIN}") == ["WO-2"]
    assert numbers(models, "plate:BD12345") == ["WO-2"]  # without the province
    assert numbers(models, "plate:粤BD12345") == ["WO-2"]
    assert numbers(models, "A12345") == ["WO-1"]
    assert numbers(models, "phone:5678") == ["WO-2"]
    assert numbers(models, "13800138000") == ["WO-1"]
    assert numbers(models, "李四") == ["WO-2"]


def test_staff_signer_status_and_flags(filed: Archive, models: ReadModels) -> None:
    assert numbers(models, "staff:clerk2") == ["WO-2"]  # who filed
    assert numbers(models, "staff:钱芳") == ["WO-2"]
    assert numbers(models, "staff:王强 kind:work_order") == ["WO-1", "WO-2"]  # the advisor
    assert numbers(models, "staff:李师傅") == ["WC-1", "WO-1"]  # named technician
    commands.sign_document(filed, "work_order", "WO-1", "technician", "li")
    assert numbers(models, "signer:li") == ["WO-1"]
    assert numbers(models, "signer:李师傅") == ["WO-1"]
    assert numbers(models, "status:待签字") == ["WC-1", "WO-1", "WO-2"]
    commands.sign_document(filed, "work_order", "WO-1", "service_advisor", "wang")
    drawn = io.BytesIO(png_bytes(1))
    commands.sign_document(filed, "work_order", "WO-1", "customer", "admin", signature_image=drawn)
    assert numbers(models, "status:complete") == ["WO-1"]
    assert numbers(models, "flag:amended") == []
    commands.amend_document(filed, "work_order", "WO-1", {"mileage_km": 12400}, "更正", 5, "admin")
    assert numbers(models, "flag:amended") == ["WO-1"]
    assert numbers(models, "flag:签后修改") == ["WO-1"]
    assert numbers(models, "status:complete") == []
    with pytest.raises(Conflict):  # it still owes its signatures and its scan
        commands.submit_claim(filed, "warranty_claim", "WC-1", "SVW-1", "admin")
    assert numbers(models, "flag:submitted") == []
    assert "WC-1" in numbers(models, "status:待签字")


def test_voided_found_only_when_asked(filed: Archive, models: ReadModels) -> None:
    commands.void_document(filed, "work_order", "WO-2", "重复开单", "admin")
    assert numbers(models, "空调") == []
    assert numbers(models, "空调 history:yes") == []
    assert numbers(models, "空调 status:voided") == ["WO-2"]
    assert numbers(models, "flag:voided") == ["WO-2"]
    assert numbers(models, "重复开单 status:voided") == ["WO-2"]  # the reason is searchable


def test_history_search_finds_replaced_text_and_names_the_version(
    filed: Archive, models: ReadModels
) -> None:
    commands.amend_document(
        filed, "work_order", "WO-1", {"fault_description": "发动机异响"}, "更正描述", 1, "admin"
    )
    # 时有 was only in the replaced text (制动 would still find 刹车片, its synonym).
    assert numbers(models, "时有") == []
    result = models.search.search("时有 history:yes")
    assert [(h.number, h.version, h.entry) for h in result.hits] == [("WO-1", 1, "history")]
    now = models.search.search("发动机异响 history:yes")
    assert [(h.number, h.version) for h in now.hits] == [("WO-1", 2)]


def test_highlighted_snippets_escape_user_text(team: Archive, models: ReadModels) -> None:
    commands.file_document(
        team,
        "work_order",
        work_order("WO-X", fault_description="<script>alert(1)</script> 刹车异响"),
        "admin",
    )
    models.runner.wait_for(timeout=30)
    hit = models.search.search("刹车").hits[0]
    assert '<b class="match' in hit.snippet
    assert "<script>" not in hit.snippet
    assert "&lt;/script&gt;" in hit.snippet


def test_paging_and_date_sort(team: Archive, models: ReadModels) -> None:
    rows = [
        (line, work_order(f"WO-{line:02d}", business_date=f"2026-11-{line:02d}"))
        for line in range(1, 26)
    ]
    commands.file_batch(team, "work_order", rows, "admin")
    models.runner.wait_for(timeout=30)
    first = models.search.search("kind:work_order", page=1, page_size=10)
    assert first.total == 25 and first.pages == 3
    assert [h.number for h in first.hits][:2] == ["WO-25", "WO-24"]  # newest first
    third = models.search.search("kind:work_order", page=3, page_size=10)
    assert [h.number for h in third.hits] == [f"WO-{n:02d}" for n in range(5, 0, -1)]
    by_date = models.search.search("刹车 sort:date", page_size=3)
    assert [h.business_date for h in by_date.hits] == ["2026-11-25", "2026-11-24", "2026-11-23"]


def test_vehicle_history_card_flags_a_mileage_drop(team: Archive, models: ReadModels) -> None:
    commands.file_document(team, "work_order", work_order("WO-1", mileage_km=30000), "admin")
    commands.file_document(
        team,
        "work_order",
        work_order("WO-2", mileage_km=25000, business_date="2026-11-10"),
        "admin",
    )
    commands.file_document(
        team,
        "warranty_claim",
        warranty_claim("WC-1", mileage_km=31000, business_date="2026-11-12", work_order_no="WO-2"),
        "admin",
    )
    commands.file_document(
        team, "work_order", work_order("WO-3", vin=OTHER_VIN, mileage_km=5), "admin"
    )
    models.runner.wait_for(timeout=30)
    card = models.vehicles.card("1M8GDM9AXKP042788")
    assert [(v.number, v.mileage_km, v.mileage_drop) for v in card] == [
        ("WO-1", 30000, False),
        ("WO-2", 25000, True),
        ("WC-1", 31000, False),
    ]
    commands.amend_document(team, "work_order", "WO-2", {"mileage_km": 30500}, "抄错", 1, "admin")
    models.runner.wait_for(timeout=30)
    assert not any(v.mileage_drop for v in models.vehicles.card("1M8GDM9AXKP042788"))
    commands.void_document(team, "warranty_claim", "WC-1", "重复", "admin")
    models.runner.wait_for(timeout=30)
    assert [v.number for v in models.vehicles.card("1M8GDM9AXKP042788")] == ["WO-1", "WO-2"]
    assert len(models.vehicles.card("1M8GDM9AXKP042788", include_voided=True)) == 3
