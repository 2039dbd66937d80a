"""Staff administration: the last active admin stays, reactivation, passwords end sessions.

The write path on the real SQLite file and PostgreSQL; the page, API and CLI on top of it.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive
from archive.cli import app as cli
from archive.commands.staff import reactivate_staff
from archive.errors import ArchiveError, Conflict, Forbidden, ValidationFailed
from archive.staff.credentials import check_password, check_token
from archive.staff.sessions import session_store
from events.staff import Staff
from tests.support import PASSWORD, event_count
from tests.webclient import WebClient
from web.app import create_app


def refusal(action) -> ArchiveError:  # type: ignore[no-untyped-def]
    with pytest.raises(ArchiveError) as caught:
        action()
    return caught.value


# -- the write path ------------------------------------------------------------------------


def test_the_last_admin_can_neither_deactivate_himself_nor_drop_his_role(team: Archive) -> None:
    before = event_count(team)
    error = refusal(lambda: commands.deactivate_staff(team, "admin", "离职", "admin"))
    assert isinstance(error, Conflict) and error.code == "last_admin"
    assert "最后一位在职的管理员" in error.message_zh and "last active admin" in error.message_en
    error = refusal(lambda: commands.change_roles(team, "admin", ["clerk"], "admin", "BA-0001"))
    assert error.code == "last_admin"
    assert event_count(team) == before  # refused: nothing written
    assert team.staff.get("admin").active and "admin" in team.staff.get("admin").roles
    # Keeping the role while changing others is fine.
    commands.change_roles(team, "admin", ["admin"], "admin")


def test_with_a_second_admin_either_may_step_down(team: Archive) -> None:
    commands.change_roles(team, "sun", ["service_manager", "admin"], "admin")
    commands.change_roles(team, "admin", ["clerk"], "admin", "BA-0001")  # no longer admin
    # sun is now the only admin: he cannot leave, admin can no longer manage staff.
    assert refusal(lambda: commands.deactivate_staff(team, "sun", "离职", "sun")).code == (
        "last_admin"
    )
    assert isinstance(
        refusal(lambda: commands.deactivate_staff(team, "sun", "离职", "admin")), Forbidden
    )
    # A deactivated admin does not count as one.
    commands.change_roles(team, "li", ["technician", "admin"], "sun")
    commands.deactivate_staff(team, "li", "离职", "sun")
    assert refusal(lambda: commands.deactivate_staff(team, "sun", "离职", "sun")).code == (
        "last_admin"
    )


def test_reactivation_brings_a_person_back_with_history(team: Archive) -> None:
    commands.set_password(team, "li", PASSWORD, "admin")
    old_token = commands.issue_token(team, "li", "laptop", "admin")[1]
    commands.deactivate_staff(team, "li", "离职", "admin")
    assert check_password(team, "li", PASSWORD) is None
    # Only admins, only the deactivated, always with a reason.
    assert isinstance(refusal(lambda: reactivate_staff(team, "li", "返岗", "clerk2")), Forbidden)
    assert isinstance(refusal(lambda: reactivate_staff(team, "li", " ", "admin")), ValidationFailed)
    assert refusal(lambda: reactivate_staff(team, "wang", "返岗", "admin")).code == "staff_active"
    reactivate_staff(team, "li", "返岗", "admin")
    assert team.staff.get("li").active  # the directory follows the new event
    assert check_password(team, "li", PASSWORD) is not None  # his password still works
    # A token he had before leaving stays dead (it may be on a machine he no longer uses).
    assert check_token(team, old_token) is None
    staff: Staff = team.app.repository.get(Staff.create_id("li"))
    history = [type(e).__name__ for e in team.app.repository.event_store.get(staff.id)]
    assert history[-2:] == ["Deactivated", "Reactivated"]
    assert check_token(team, commands.issue_token(team, "li", "new", "admin")[1]) is not None
    # The stored topic of the older event is unchanged.
    topics = [n.topic for n in team.app.recorder.select_notifications(1, 1000)]
    assert "events.staff:Staff.Deactivated" in topics
    assert "events.staff:Staff.Reactivated" in topics


def test_changing_ones_own_password_needs_the_old_one(team: Archive) -> None:
    commands.set_password(team, "li", PASSWORD, "li")  # the first one: there is no old one
    before = event_count(team)
    for old in (None, "", "wrong password"):
        change = lambda old=old: commands.set_password(team, "li", "new secret 1", "li", old)  # noqa: E731
        error = refusal(change)
        assert [p.field for p in error.problems] == ["old_password"]
    assert event_count(team) == before
    commands.set_password(team, "li", "new secret 1", "li", PASSWORD)
    assert check_password(team, "li", "new secret 1") is not None
    # An admin resets someone else's without knowing it.
    commands.set_password(team, "li", "reset by admin", "admin")
    assert check_password(team, "li", "reset by admin") is not None


def test_a_password_change_and_a_deactivation_end_the_persons_sessions(team: Archive) -> None:
    with session_store(team.settings) as store:
        store.start("li")
        store.start("li")
        other, _ = store.start("clerk2")
        commands.set_password(team, "li", PASSWORD, "admin")
        assert store.sessions_of("li") == 0 and store.find(other) is not None
        commands.deactivate_staff(team, "clerk2", "离职", "admin")
        assert store.find(other) is None


def test_names_numbers_and_labels_refuse_control_and_direction_characters(
    team: Archive,
) -> None:
    before = event_count(team)
    error = refusal(
        lambda: commands.register_staff(
            team,
            username="zhang",
            name="张\u202e三",
            roles=["clerk"],
            actor="admin",
            registration_no="BA-\x1b[31m",
            phone="138\x00",
        )
    )
    assert {p.field for p in error.problems} == {"name", "registration_no", "phone"}
    assert (
        refusal(lambda: commands.change_roles(team, "clerk2", ["clerk"], "admin", "BA\x07"))
        .problems[0]
        .field
        == "registration_no"
    )
    assert (
        refusal(lambda: commands.issue_token(team, "li", "DMS\u2066", "admin")).problems[0].field
        == "label"
    )
    assert event_count(team) == before


# -- the page, the API and the CLI ---------------------------------------------------------


def _post(web: WebClient, url: str, **fields: str):  # type: ignore[no-untyped-def]
    return web.post(url, data={"csrf_token": web.csrf("/staff"), **fields})


def test_staff_page_refuses_the_last_admin_and_reactivates(web: WebClient, team: Archive) -> None:
    web.login("admin", PASSWORD)
    refused = _post(web, "/staff/admin/deactivate", reason="离职")
    assert refused.status_code == 409 and "最后一位在职的管理员" in refused.text
    refused = _post(web, "/staff/admin/roles", roles="clerk", registration_no="BA-0001")
    assert refused.status_code == 409 and "最后一位在职的管理员" in refused.text
    assert _post(web, "/staff/li/deactivate", reason="离职").status_code == 303
    page = web.get("/staff")
    assert 'action="/staff/li/reactivate"' in page.text and "恢复" in page.text
    assert _post(web, "/staff/li/reactivate", reason="返岗").status_code == 303
    assert team.staff.get("li").active
    assert 'action="/staff/li/reactivate"' not in web.get("/staff").text


def test_own_password_on_the_page_needs_the_old_one_and_keeps_him_in(
    web: WebClient, team: Archive
) -> None:
    other = WebClient(web.app, owns_app=False)  # li is logged in on a second PC too
    try:
        assert other.login("li", PASSWORD).status_code == 303
        web.login("li", PASSWORD)
        page = web.get("/staff")
        assert 'name="old_password"' in page.text
        wrong = _post(web, "/staff/li/password", password="new secret 1", old_password="nope")
        assert wrong.status_code == 422 and "原密码不对" in wrong.text
        assert check_password(team, "li", PASSWORD) is not None
        done = _post(web, "/staff/li/password", password="new secret 1", old_password=PASSWORD)
        assert done.status_code == 303
        assert web.get("/staff").status_code == 200  # this browser goes on, in a new session
        assert other.get("/").status_code == 303  # the other PC is logged out
    finally:
        other.close()


def test_api_reactivates_and_refuses_the_last_admin(team: Archive) -> None:
    token = commands.issue_token(team, "admin", "API 测试", "admin")[1]
    client = WebClient(create_app(team, follow_log=False))
    auth = {"Authorization": f"Bearer {token}"}
    try:
        refused = client.post(
            "/api/v1/staff/admin/deactivate", json={"reason": "离职"}, headers=auth
        )
        assert refused.status_code == 409 and refused.json()["error"] == "last_admin"
        assert refused.json()["message_zh"] and refused.json()["message_en"]
        commands.deactivate_staff(team, "li", "离职", "admin")
        back = client.post("/api/v1/staff/li/reactivate", json={"reason": "返岗"}, headers=auth)
        assert back.status_code == 200 and back.json()["active"] is True
        again = client.post("/api/v1/staff/li/reactivate", json={"reason": "返岗"}, headers=auth)
        assert again.status_code == 409 and again.json()["error"] == "staff_active"
    finally:
        client.close()


def test_cli_reactivate_last_admin_and_old_password(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_STAFF": "admin"}

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env=env, input=input)

    assert run("staff", "add", "admin", "--name", "赵敏", "--role", "admin").exit_code == 0
    assert run("staff", "add", "li", "--name", "李师傅", "--role", "technician").exit_code == 0
    last = run("staff", "deactivate", "admin", "--reason", "离职")
    assert last.exit_code == 1 and "最后一位在职的管理员" in last.output
    assert run("staff", "deactivate", "li", "--reason", "离职").exit_code == 0
    back = run("staff", "reactivate", "li", "--reason", "返岗", "--json")
    assert back.exit_code == 0, back.output
    assert '"active": true' in back.output
    # His own password: the first needs no old one, the next asks for it.
    first = run("staff", "password", "li", "--staff", "li", "--password", PASSWORD)
    assert first.exit_code == 0, first.output
    asked = run("staff", "password", "li", "--staff", "li", "--password", "new secret", input="x\n")
    assert asked.exit_code == 2 and "原密码不对" in asked.output
    assert re.search(r"原密码 / current password", asked.output)
    ok = run(
        "staff", "password", "li", "--staff", "li", "--password", "new secret 1",
        "--old-password", PASSWORD,
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output


def _remove_each_other(team: Archive) -> dict[str, str]:
    """admin deactivates sun while sun deactivates admin, both released at the same moment."""
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def remove(target: str, actor: str) -> None:
        start.wait()
        try:
            commands.deactivate_staff(team, target, "离职", actor)
            outcomes[actor] = "done"
        except ArchiveError as error:
            outcomes[actor] = error.code

    threads = [
        threading.Thread(target=remove, args=("sun", "admin")),
        threading.Thread(target=remove, args=("admin", "sun")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_admins_removing_each_other_at_once_leave_one(team: Archive) -> None:
    """Each checks that another admin remains, then saves: one at a time, so the second finds
    himself the last one (or no longer an admin)."""
    commands.change_roles(team, "sun", ["service_manager", "admin"], "admin")
    for round_ in range(4):
        outcomes = _remove_each_other(team)
        assert list(outcomes.values()).count("done") == 1, (round_, outcomes)
        admins = [p for p in team.staff.refresh().values() if p.active and "admin" in p.roles]
        assert len(admins) == 1
        gone = "sun" if outcomes["admin"] == "done" else "admin"
        reactivate_staff(team, gone, "返岗", admins[0].username)
