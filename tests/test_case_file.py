"""The case file of a work order (issue 12, item 7): every document naming it, directly or
through its callback, with status, date and flags; papers filed before links were recorded are
in it; voided ones are marked; the same after a rebuild."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from archive import commands
from archive.bootstrap import Archive
from archive.errors import NotFound
from archive.queries.cases import case_file
from events.document import Document
from tests.support import warranty_claim, work_order

TODAY = date(2026, 11, 20)


def callback(number: str = "CB-0001", **overrides: Any) -> dict[str, Any]:
    return {
        "number": number,
        "business_date": "2026-11-05",
        "work_order_no": "WO-0001",
        "customer_phone": "13800138000",
        "called_at": "2026-11-05T10:30",
        "outcome": "reached",
        **overrides,
    }


def quick_handling(number: str = "QH-0001", **overrides: Any) -> dict[str, Any]:
    return {
        "number": number,
        "business_date": "2026-11-05",
        "source": "callback",
        "source_no": "CB-0001",
        "description": "客户反映刹车仍有异响",
        "action": "约客户回厂检查",
        **overrides,
    }


def file_case(team: Archive) -> None:
    """WO-0001 and everything that names it; WO-0002 with a claim of its own."""
    commands.file_document(team, "work_order", work_order(), "admin")
    commands.file_document(
        team, "work_order", work_order("WO-0002", vin="LSVAM4188C2184825"), "admin"
    )
    papers = [
        ("warranty_claim", warranty_claim()),
        (
            "warranty_claim",
            warranty_claim(
                "WC-0002", work_order_no="WO-0002", vin="LSVAM4188C2184825", mileage_km=12345
            ),
        ),
        (
            "diagnostic_sheet",
            {
                "number": "DS-0001",
                "business_date": "2026-11-03",
                "work_order_no": "WO-0001",
                "customer_words": "刹车有异响",
                "advisor_findings": "前刹车片磨损",
                "service_advisor": "wang",
            },
        ),
        ("callback", callback(problem=True)),
        ("quick_handling", quick_handling()),
        (
            "daily_report",
            {
                "number": "DR-20261103",
                "business_date": "2026-11-03",
                "lines": [
                    {"work_order_no": "WO-0001", "amount": "570.50"},
                    {"work_order_no": "WO-0002", "amount": "570.50"},
                ],
            },
        ),
    ]
    for kind, data in papers:
        commands.file_document(team, kind, data, "admin")
    # A voucher as an archive from before recorded links holds it: a Filed event alone.
    voucher = Document.file(
        "first_service_voucher",
        "FS-0001",
        {"business_date": date(2026, 11, 3), "vin": "1M8GDM9AXKP042788", "mileage_km": 12345,
         "work_order_no": "WO-0001", "service_advisor": "wang"},
        "admin",
        team.now(),
    )  # fmt: skip
    team.app.save(voucher)


def test_the_case_file_lists_every_linked_document(team: Archive) -> None:
    file_case(team)
    commands.void_document(team, "diagnostic_sheet", "DS-0001", "重复", "admin")
    with team.read_models() as models:
        models.runner.catch_up()
        case = case_file(models, "WO-0001", TODAY)
        assert case["work_order"]["number"] == "WO-0001"
        listed = {(d["kind"], d["number"]): d for d in case["documents"]}
        assert set(listed) == {
            ("warranty_claim", "WC-0001"),
            ("diagnostic_sheet", "DS-0001"),
            ("first_service_voucher", "FS-0001"),
            ("callback", "CB-0001"),
            ("quick_handling", "QH-0001"),
            ("daily_report", "DR-20261103"),
        }
        assert listed[("quick_handling", "QH-0001")]["through"] == "callback:CB-0001"
        assert listed[("first_service_voucher", "FS-0001")]["link_state"] == "unchecked"
        assert listed[("diagnostic_sheet", "DS-0001")]["voided"]
        claim = listed[("warranty_claim", "WC-0001")]
        assert claim["status"] == "awaiting_signatures" and claim["status_label"] == "待签字"
        # Repaired on 3 November, not submitted: late on the 20th.
        assert "late_submission" in claim["flags"] and "上报逾期" in claim["flag_labels"]
        assert {"kind": "warranty_claim", "label": "三包索赔单", "field": "work_order_no"} in (
            case["create"]
        )
        other = case_file(models, "WO-0002", TODAY)
        assert [d["number"] for d in other["documents"]] == ["DR-20261103", "WC-0002"]
        with pytest.raises(NotFound):
            case_file(models, "WO-9999", TODAY)
        before = case_file(models, "WO-0001", TODAY)
        models.runner.rebuild("worklists")
        assert case_file(models, "WO-0001", TODAY) == before


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_read_models_of_an_earlier_shape_are_made_again_from_the_log(team: Archive) -> None:
    """A projections file written before issue 12 (worklists shape 3 without links, vehicles
    and months shape 1): opened, its tables are made again and followed from the log."""
    import sqlite3

    file_case(team)
    with team.read_models() as models:
        models.runner.catch_up()
        expected = case_file(models, "WO-0001", TODAY)
    with sqlite3.connect(team.layout.projections_db) as db:
        db.execute("DROP TABLE wl_links")
        db.execute("DROP TABLE vehicle_summaries")
        db.execute("DROP TABLE vehicle_records")  # as shape 1 made it: no plate columns
        db.execute(
            "CREATE TABLE vehicle_records (doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " number TEXT NOT NULL, fields TEXT NOT NULL, voided INTEGER NOT NULL DEFAULT 0,"
            " vin TEXT, business_date TEXT, position INTEGER NOT NULL)"
        )
        db.execute("ALTER TABLE month_documents DROP COLUMN late_submission")
        for name, shape in (("worklists", 3), ("vehicles", 1), ("months", 1)):
            db.execute("UPDATE projection_shapes SET shape = ? WHERE name = ?", (shape, name))
    with team.read_models() as models:
        models.runner.catch_up()
        assert case_file(models, "WO-0001", TODAY) == expected
        assert models.vehicles.vehicle("1M8GDM9AXKP042788")["visits"] == 1
        assert [d.number for d in models.months.unsubmitted("2026-11")] == ["WC-0001", "WC-0002"]
