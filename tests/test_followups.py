"""Follow-ups on worklists (issue 12, item 4): a callback with a problem stays on the clerk's and
the service manager's lists until a quick-handling form naming it is closed and signed; a
delivered car's callback is due 7 days after delivery until a callback naming the registration
reaches the customer; a claim submitted late or overdue unsubmitted is on the claims list."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from archive import commands
from archive.bootstrap import Archive
from archive.errors import ValidationFailed
from archive.queries import worklists as wl
from archive.queries.documents import show
from events.document import Document
from tests.support import event_count, warranty_claim, work_order
from tests.test_case_file import callback, quick_handling

TODAY = date(2026, 11, 3)  # the test clock's day


def todo(archive: Archive, username: str) -> dict[str, Any]:
    staff = archive.staff.refresh()
    names = {u: p.name for u, p in staff.items()}
    with archive.read_models() as models:
        models.runner.catch_up()
        return wl.worklist(models.worklists, archive.settings, staff[username], names, TODAY)


def numbers(entries: list[dict[str, Any]]) -> list[str]:
    return [e["number"] for e in entries]


def test_a_customer_problem_stays_until_its_quick_handling_form_is_closed(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(business_date="2026-10-31"), "admin")
    commands.file_document(
        team, "callback", callback(business_date="2026-11-02", problem=True), "admin"
    )
    commands.file_document(
        team, "callback", callback("CB-0002", business_date="2026-11-02"), "admin"
    )
    for who in ("admin", "sun"):  # the clerk and the service manager
        assert numbers(todo(team, who)["customer_problems"]) == ["CB-0001"], who
    assert "customer_problems" not in todo(team, "wang")
    commands.file_document(
        team,
        "quick_handling",
        quick_handling(business_date="2026-11-03", return_repair=True),
        "admin",
    )
    (entry,) = todo(team, "sun")["customer_problems"]
    assert entry["quick_handling"] == ["QH-0001"] and entry["phone"] == "13800138000"
    # A return repair goes to the manager until the form is closed.
    assert "QH-0001" in numbers(todo(team, "sun")["return_repairs"])
    version = show(team, "quick_handling", "QH-0001")["version"]
    commands.amend_document(
        team,
        "quick_handling",
        "QH-0001",
        {"closed_at": "2026-11-03T15:00"},
        "已处理",
        version,
        "sun",
    )
    # Closed but not yet signed by the service manager: still his to follow up.
    assert numbers(todo(team, "sun")["customer_problems"]) == ["CB-0001"]
    assert "QH-0001" not in numbers(todo(team, "sun")["return_repairs"])
    commands.sign_document(team, "quick_handling", "QH-0001", "service_manager", "sun")
    assert todo(team, "sun")["customer_problems"] == []
    label, entries = wl.section_entries(todo(team, "admin"), "customer_problems")
    assert label == "客户问题待处理" and entries == []


def test_a_quick_handling_form_keeps_to_its_callback_order_and_closes_after_it_opens(
    team: Archive,
) -> None:
    for number in ("WO-0001", "WO-0002"):
        commands.file_document(
            team, "work_order", work_order(number, business_date="2026-10-31"), "admin"
        )
    commands.file_document(
        team, "callback", callback(business_date="2026-11-02", problem=True), "admin"
    )
    head = event_count(team)
    with pytest.raises(ValidationFailed) as refused:
        commands.file_document(
            team, "quick_handling", quick_handling(work_order_no="WO-0002"), "admin"
        )
    (problem,) = refused.value.problems
    assert problem.field == "work_order_no" and "WO-0001" in problem.message_zh
    with pytest.raises(ValidationFailed) as refused:
        commands.file_document(
            team, "quick_handling", quick_handling(closed_at="2026-11-04T17:00"), "admin"
        )
    assert [p.field for p in refused.value.problems] == ["closed_at"]
    assert event_count(team) == head  # refused: nothing written
    commands.file_document(team, "quick_handling", quick_handling(work_order_no="WO-0001"), "admin")
    version = show(team, "quick_handling", "QH-0001")["version"]
    for changes in ({"work_order_no": "WO-0002"}, {"closed_at": "2026-11-04T09:00"}):
        with pytest.raises(ValidationFailed):
            commands.amend_document(
                team, "quick_handling", "QH-0001", changes, "改", version, "sun"
            )
    assert show(team, "quick_handling", "QH-0001")["version"] == version


def test_a_delivered_car_is_called_seven_days_after_delivery(team: Archive) -> None:
    commands.register_staff(
        team, username="xiao", name="肖丽", roles=["sales_consultant"], actor="admin"
    )
    registration = {
        "number": "BX-0001", "business_date": "2026-10-27", "vin": "1M8GDM9AXKP042788",
        "customer_name": "张三", "customer_phone": "13800138000", "purchase_date": "2026-10-25",
        "delivery_date": "2026-10-27", "sales_consultant": "xiao",
    }  # fmt: skip
    commands.file_document(team, "warranty_registration", registration, "admin")
    (entry,) = todo(team, "admin")["callbacks"]["due_today"]
    assert (entry["number"], entry["due"], entry["label"]) == ("BX-0001", "2026-11-03", "交车回访")
    assert entry["phone"] == "13800138000"
    delivery = callback(registration_no="BX-0001", work_order_no=None, outcome="no_answer")
    delivery = {k: v for k, v in delivery.items() if v is not None}
    commands.file_document(team, "callback", {**delivery, "business_date": "2026-11-03"}, "admin")
    assert numbers(todo(team, "admin")["callbacks"]["due_today"]) == ["BX-0001"]  # call again
    commands.file_document(
        team, "callback", {**delivery, "number": "CB-0002", "outcome": "reached",
                           "business_date": "2026-11-03"}, "admin"
    )  # fmt: skip
    assert todo(team, "admin")["callbacks"]["due_today"] == []


def test_claims_submitted_late_and_overdue_are_on_the_claims_list(team: Archive) -> None:
    for n in (1, 2):
        commands.file_document(
            team, "work_order", work_order(f"WO-000{n}", business_date="2026-10-20"), "admin"
        )
        commands.file_document(
            team,
            "warranty_claim",
            warranty_claim(f"WC-000{n}", business_date="2026-10-20", work_order_no=f"WO-000{n}"),
            "admin",
        )
    # As the write path records a submission after the deadline (signatures and scan aside).
    doc = team.app.repository.get(Document.create_id("warranty_claim", "WC-0002"))
    doc.submit("SVW-2", "admin", team.now(), late=True, deadline=date(2026, 10, 27))
    team.app.save(doc)
    claims = todo(team, "admin")["warranty_claims"]
    assert numbers(claims["overdue"]) == ["WC-0001"]
    assert numbers(claims["submitted_late"]) == ["WC-0002"]
    assert claims["submitted_late"][0]["due"] == "2026-10-27"
    label, entries = wl.section_entries(todo(team, "admin"), "claims_late")
    assert label == "逾期上报的三包索赔单" and numbers(entries) == ["WC-0002"]
