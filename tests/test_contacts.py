"""The desk's contacts with customers (events/contacts.py, archive/commands/contacts.py):
reminder outcomes and greetings recorded as events, refusals that change nothing, the
callback's churn reason, and archives from before them still opening and replaying."""

from __future__ import annotations

import json
from datetime import date

import pytest

from archive import commands
from archive.bootstrap import Archive
from archive.errors import Conflict, NotFound, ValidationFailed
from events.contacts import CustomerContact
from tests.report_log import aggregates
from tests.support import PASSWORD, VALID_VIN, event_count, work_order
from tests.test_case_file import callback

PHONE = "13800138000"


@pytest.fixture
def visited(team: Archive) -> Archive:
    """A car seen once (2026-11-03, 12,345 km)."""
    commands.file_document(team, "work_order", work_order(), "admin")
    return team


def test_reminder_outcomes_are_events_and_the_last_one_counts(visited: Archive) -> None:
    first = commands.record_reminder(visited, VALID_VIN, "called", "clerk2", note="未接，再打")
    # Due 6 months after the only visit (no pace: one visit); typed in Chinese the second time.
    assert first.occasion == "2027-05-03"
    again = commands.record_reminder(visited, VALID_VIN.lower(), "已预约", "admin", note="周六上午")
    assert again.id == first.id == CustomerContact.create_id("maintenance", VALID_VIN, "2027-05-03")
    [contact] = list(aggregates(visited, CustomerContact))
    assert [o["outcome"] for o in contact.outcomes] == ["called", "booked"]
    assert contact.latest is not None and contact.latest["actor"] == "admin"
    with visited.read_models() as models:
        models.runner.catch_up()
        found = models.contacts.outcomes("maintenance", ["2027-05-03"])
    row = found[(VALID_VIN, "2027-05-03")]
    assert (row["outcome"], row["note"], row["times"]) == ("booked", "周六上午", 2)


def test_a_due_date_given_is_one_the_car_has_had(visited: Archive) -> None:
    """A due date given is the car's due date after one of its visits (the list of a month
    shows it): the one before its last visit still takes a late result; any other is refused."""
    commands.file_document(
        visited,
        "work_order",
        work_order("WO-0002", business_date="2026-04-20", mileage_km="9000"),
        "admin",
    )
    contact = commands.record_reminder(
        visited, VALID_VIN, "letter_sent", "clerk2", due=date(2026, 10, 20)
    )
    assert contact.occasion == "2026-10-20"  # due after the first visit, April's
    assert commands.record_reminder(visited, VALID_VIN, "called", "clerk2").occasion == "2027-05-03"
    before = event_count(visited)
    for wrong in ("2026-08-02", "2027-05-04"):
        with pytest.raises(ValidationFailed) as refused:
            commands.record_reminder(visited, VALID_VIN, "called", "clerk2", due=wrong)
        assert "2026-10-20、2027-05-03" in refused.value.problems[0].message_zh
    assert event_count(visited) == before


def test_greetings_are_recorded_per_customer_and_holiday(visited: Archive) -> None:
    contact = commands.record_greeting(
        visited, "138 0013 8000", "2027-spring", "已发短信", "clerk2"
    )
    assert (contact.subject, contact.occasion) == (PHONE, "2027-spring")
    assert contact.outcomes[-1]["outcome"] == "sms"


REMIND, GREET = "record_reminder", "record_greeting"
REFUSED = [
    (REMIND, ("LSVAA4180E2000000", "called"), {}, NotFound, None),
    (REMIND, (VALID_VIN, "maybe"), {}, ValidationFailed, "outcome"),
    (REMIND, (VALID_VIN, "called"), {"due": "12/01"}, ValidationFailed, "due"),
    (REMIND, (VALID_VIN, "called"), {"due": "2020-01-01"}, ValidationFailed, "due"),
    (REMIND, (VALID_VIN, "called"), {"note": "x" * 201}, ValidationFailed, "note"),
    (GREET, ("13900000000", "2027-spring", "sms"), {}, NotFound, None),
    (GREET, (PHONE, "2027-easter", "sms"), {}, ValidationFailed, "holiday"),
    (GREET, (PHONE, "2027-spring", "hug"), {}, ValidationFailed, "result"),
]


@pytest.mark.parametrize(("command", "args", "options", "error", "field"), REFUSED)
def test_a_refused_contact_leaves_the_log_unchanged(
    visited, command, args, options, error, field
) -> None:
    before = event_count(visited)
    with pytest.raises(error) as refused:
        getattr(commands, command)(visited, *args, "clerk2", **options)
    assert event_count(visited) == before
    assert refused.value.message_zh  # a Chinese message that says what to do
    if field is not None:
        assert [p.field for p in refused.value.problems] == [field]


def test_churn_reasons_follow_callbacks_through_amendment_and_void(visited: Archive) -> None:
    commands.file_document(visited, "callback", callback(churn_reason="距离远"), "clerk2")
    doc = commands.file_document(visited, "callback", callback("CB-0002"), "clerk2")
    commands.amend_document(
        visited, "callback", "CB-0002", {"churn_reason": "price"}, "客户补充", doc.version, "clerk2"
    )
    with visited.read_models() as models:
        models.runner.catch_up()
        reasons = models.contacts.churn_reasons("2026-11-01", "2026-12-01")
        assert [(r["number"], r["reason"]) for r in reasons] == [
            ("CB-0001", "distance"),
            ("CB-0002", "price"),
        ]
        commands.void_document(visited, "callback", "CB-0001", "重复录入", "clerk2")
        models.runner.catch_up()
        reasons = models.contacts.churn_reasons("2026-11-01", "2026-12-01")
        assert [r["number"] for r in reasons] == ["CB-0002"]


def test_an_archive_from_before_contacts_opens_and_replays(visited: Archive) -> None:
    """A log written before the contacts projection and the churn reason existed: a callback
    without ``churn_reason``, no CustomerContact. The new projection starts from the first
    event, and every aggregate still folds."""
    commands.file_document(visited, "callback", callback(), "clerk2")
    with visited.read_models() as models:
        models.runner.rebuild("contacts")
        assert models.contacts.churn_reasons("2026-01-01", "2027-01-01") == []
        assert models.contacts.position() == visited.app.head()
    folded = list(aggregates(visited, object))
    assert len(folded) == 9  # the team's seven, the order and the callback


def test_the_report_pages_record_outcomes_and_print_the_letters(web, team: Archive) -> None:
    """The maintenance list's form (CSRF like every form), the letters PDF, a refusal that
    changes nothing, and the API recording a greeting with the session's X-CSRF-Token."""
    commands.file_document(team, "work_order", work_order(business_date="2026-05-02"), "admin")
    web.login("admin", PASSWORD)
    page = web.get("/reports/maintenance?month=2026-11")
    assert page.status_code == 200
    assert 'data-form="reminder"' in page.text and "打印邀请信" in page.text
    assert "已预约和客户谢绝的车不打印邀请信" in page.text
    token = web.csrf("/reports/maintenance?month=2026-11")
    form = {"reminder": f"{VALID_VIN}|2026-11-02", "outcome": "booked", "month": "2026-11"}
    assert web.post("/contacts/reminders", data=form).status_code == 403  # no CSRF token
    sent = web.post("/contacts/reminders", data={**form, "csrf_token": token, "note": "周六"})
    assert sent.status_code == 303
    shown = web.get(sent.headers["location"])
    assert 'data-done="reminder"' in shown.text and "已预约" in shown.text
    before = event_count(team)
    refused = web.post("/contacts/reminders", data={**form, "csrf_token": token, "outcome": "x"})
    assert refused.status_code == 422 and "提醒结果" in refused.text
    made_up = {**form, "csrf_token": token, "reminder": f"{VALID_VIN}|2026-08-02"}
    refused = web.post("/contacts/reminders", data=made_up)
    assert refused.status_code == 422 and "没有 2026-08-02 到期的保养" in refused.text
    assert event_count(team) == before
    letters = web.get("/letters/2026-11.pdf")
    assert letters.headers["content-type"] == "application/pdf"
    assert letters.content.startswith(b"%PDF")
    greetings = web.get("/reports/greetings?month=2026-09")
    assert greetings.status_code == 200 and 'data-form="greeting"' in greetings.text
    assert web.get("/reports/churn?month=2026-11").status_code == 200
    greeted = web.post(
        "/api/v1/greetings",
        json={"customer": PHONE, "holiday": "2026-national", "result": "called"},
        headers={"X-CSRF-Token": token},
    )
    assert greeted.status_code == 200, greeted.text
    assert greeted.json()["outcomes"][0]["outcome"] == "called"
    pending = {"holiday": "2026-national", "result": "sms", "month": "2026-09"}
    nobody = web.post("/contacts/greetings/pending", data={**pending, "csrf_token": token})
    assert nobody.status_code == 409 and "没有未问候的客户" in nobody.text
    gone = web.post(
        "/api/v1/reminders",
        json={"vin": "LSVAA4180E2000000", "outcome": "called"},
        headers={"X-CSRF-Token": token},
    )
    assert gone.status_code == 404 and gone.json()["error"] == "vehicle_not_found"


def test_the_command_line_records_and_prints_letters(
    visited: Archive, store_settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from archive.cli import app as cli

    monkeypatch.setenv("ARCHIVE_HOME", str(store_settings.home))
    if store_settings.database_url:
        monkeypatch.setenv("ARCHIVE_DATABASE_URL", store_settings.database_url)
    runner = CliRunner()
    args = ["remind", VALID_VIN, "--outcome", "booked", "--note", "周六", "--staff", "clerk2"]
    done = runner.invoke(cli, [*args, "--due", "2027-05-03", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["outcome"] == "booked"
    before = event_count(visited)
    refused = runner.invoke(cli, ["remind", VALID_VIN, "--outcome", "maybe", "--staff", "clerk2"])
    assert refused.exit_code == 2 and "提醒结果" in refused.output
    greet = ["greet", PHONE, "--holiday", "2027-spring", "--result", "sms", "--staff", "clerk2"]
    assert runner.invoke(cli, greet).exit_code == 0
    assert event_count(visited) == before + 2  # the greeting opened and recorded
    out = tmp_path / "letters.pdf"
    made = runner.invoke(cli, ["letters", "--month", "2026-10", "-o", str(out), "--json"])
    assert made.exit_code == 0, made.output
    assert out.read_bytes().startswith(b"%PDF") and json.loads(made.output)["letters"] == 0


def test_everyone_pending_is_greeted_in_one_save(visited: Archive) -> None:
    commands.file_document(
        visited,
        "work_order",
        work_order("WO-0002", customer_name="李四", customer_phone="13900000001"),
        "admin",
    )
    commands.record_greeting(visited, PHONE, "2027-spring", "called", "clerk2")
    greeted = commands.record_pending_greetings(visited, "2027-spring", "sms", "clerk2")
    assert [c.subject for c in greeted] == ["13900000001"]  # the one greeted already keeps his
    before = event_count(visited)
    with pytest.raises(Conflict) as nobody:
        commands.record_pending_greetings(visited, "2027-spring", "sms", "clerk2")
    assert nobody.value.code == "nothing_pending" and event_count(visited) == before


OUTSIDERS = ("auditor", "li", "xiao")  # the read-only auditor, a technician, a sales consultant


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_only_the_desk_records_contacts_with_customers(visited: Archive, web) -> None:
    """Clerk, service advisor and service manager record reminders and greetings; anyone else
    is refused on the command, the page and the API alike (403, nothing saved) and is not
    offered the forms; ``archive permissions`` lists who may."""
    from archive.errors import Forbidden
    from archive.staff.permissions import permission_table

    commands.register_staff(
        visited, username="xiao", name="肖销售", roles=["sales_consultant"], actor="admin"
    )
    for username in ("clerk2", "wang", "sun"):
        commands.record_greeting(visited, PHONE, "2027-spring", "sms", username)
    commands.set_password(visited, "auditor", PASSWORD, "admin")
    web.login("auditor", PASSWORD)
    before = event_count(visited)
    for username in OUTSIDERS:
        with pytest.raises(Forbidden) as refused:
            commands.record_reminder(visited, VALID_VIN, "called", username)
        assert "没有权限登记保养提醒和节日问候结果（需要：信息员" in refused.value.message_zh
        with pytest.raises(Forbidden):
            commands.record_pending_greetings(visited, "2027-spring", "sms", username)
    [row] = [r for r in permission_table() if r["action"] == "contact"]
    assert row["roles"] == ["clerk", "service_advisor", "service_manager"]
    page = web.get("/reports/maintenance?month=2026-11")
    assert page.status_code == 200 and 'data-form="reminder"' not in page.text
    token = web.csrf("/reports/maintenance?month=2026-11")
    posts = {
        "/contacts/reminders": {"reminder": f"{VALID_VIN}|2027-05-03", "outcome": "called"},
        "/contacts/greetings": {"customer": PHONE, "holiday": "2027-spring", "result": "sms"},
        "/contacts/greetings/pending": {"holiday": "2027-spring", "result": "sms"},
    }
    for url, form in posts.items():
        sent = web.post(url, data={**form, "csrf_token": token, "month": "2026-11"})
        assert sent.status_code == 403 and "没有权限" in sent.text, url
    api = web.post(
        "/api/v1/reminders",
        json={"vin": VALID_VIN, "outcome": "called"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 403 and api.json()["error"] == "not_permitted"
    assert event_count(visited) == before
