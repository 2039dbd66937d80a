"""Who signs (issue 12, item 3): in a role only as the person the form names there, or on his
behalf with a reason by a role the permission table allows; recorded on the signature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.cli import app
from archive.config import Settings
from archive.errors import ArchiveError, BadInput, Forbidden, ValidationFailed
from tests.support import event_count, register_team, work_order


@pytest.fixture
def shop(team: Archive) -> Archive:
    """The team with a second technician and a workshop lead; order WO-0001 names 李师傅."""
    commands.register_staff(
        team, username="zhang", name="张师傅", roles=["technician"], actor="admin"
    )
    commands.register_staff(
        team, username="lead", name="刘组长", roles=["workshop_lead"], actor="admin"
    )
    commands.file_document(team, "work_order", work_order(), "admin")
    return team


def refusal(archive: Archive, kind: type[ArchiveError], attempt) -> ArchiveError:
    before = event_count(archive)
    with pytest.raises(kind) as caught:
        attempt()
    assert event_count(archive) == before
    return caught.value


def sign(archive: Archive, role: str, actor: str, **extra):
    return commands.sign_document(archive, "work_order", "WO-0001", role, actor, **extra)


def test_only_the_named_technician_signs_as_technician(shop: Archive) -> None:
    error = refusal(shop, Forbidden, lambda: sign(shop, "technician", "zhang"))
    assert error.code == "not_named_signer"
    assert "维修技师是李师傅" in error.message_zh and "张师傅不能" in error.message_zh
    assert "维修组长代签" in error.message_zh
    doc = sign(shop, "technician", "li")
    assert doc.signatures[-1].signer == "li" and doc.signatures[-1].on_behalf_of is None


def test_the_workshop_lead_signs_for_a_named_technician_with_a_reason(shop: Archive) -> None:
    no_reason = refusal(
        shop, ValidationFailed, lambda: sign(shop, "technician", "lead", on_behalf_of="li")
    )
    assert no_reason.problems[0].field == "on_behalf_reason"
    not_named = refusal(
        shop,
        Forbidden,
        lambda: sign(shop, "technician", "lead", on_behalf_of="zhang", on_behalf_reason="休假"),
    )
    assert "张师傅" in not_named.message_zh and "不是本维修委托书写明的维修技师" in (
        not_named.message_zh
    )
    not_allowed = refusal(
        shop,
        Forbidden,
        lambda: sign(shop, "technician", "zhang", on_behalf_of="li", on_behalf_reason="休假"),
    )
    assert not_allowed.code == "not_permitted_on_behalf" and "维修组长" in not_allowed.message_zh
    doc = sign(shop, "technician", "lead", on_behalf_of="李师傅", on_behalf_reason="李师傅休假")
    signature = doc.signatures[-1]
    assert (signature.signer, signature.on_behalf_of, signature.on_behalf_reason) == (
        "lead",
        "li",
        "李师傅休假",
    )
    assert "technician" in doc.signed_roles()
    stored = list(shop.app.stored_events(doc.id))[-1]
    assert (stored.on_behalf_of, stored.on_behalf_reason) == ("li", "李师傅休假")


def test_the_service_manager_signs_for_the_advisor_nobody_for_the_customer(
    shop: Archive,
) -> None:
    doc = sign(shop, "service_advisor", "sun", on_behalf_of="wang", on_behalf_reason="已离职")
    assert doc.signatures[-1].on_behalf_of == "wang"
    error = refusal(
        shop,
        BadInput,
        lambda: sign(shop, "customer", "admin", on_behalf_of="张三", on_behalf_reason="不在"),
    )
    assert error.code == "customer_on_behalf"


def test_a_form_naming_nobody_is_signed_by_anyone_in_the_role(shop: Archive) -> None:
    commands.file_document(shop, "work_order", work_order("WO-2", technicians=None), "admin")
    doc = commands.sign_document(shop, "work_order", "WO-2", "technician", "zhang")
    assert doc.signatures[-1].signer == "zhang"
    error = refusal(
        shop,
        Forbidden,
        lambda: commands.sign_document(
            shop,
            "work_order",
            "WO-2",
            "technician",
            "lead",
            on_behalf_of="li",
            on_behalf_reason="x",
        ),
    )
    assert error.code == "no_named_signer"


def test_refusing_follows_the_same_names(shop: Archive) -> None:
    error = refusal(
        shop,
        Forbidden,
        lambda: commands.refuse_signature(
            shop, "work_order", "WO-0001", "technician", "不是我修的", "zhang"
        ),
    )
    assert error.code == "not_named_signer" and "拒签" in error.message_zh
    doc = commands.refuse_signature(
        shop, "work_order", "WO-0001", "technician", "试车仍有异响，返工", "lead"
    )
    assert doc.refusals[-1].signer == "lead"


def test_sign_on_behalf_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = open_archive(Settings(home=home))
    try:
        register_team(archive)
        commands.register_staff(
            archive, username="lead", name="刘组长", roles=["workshop_lead"], actor="admin"
        )
        commands.file_document(archive, "work_order", work_order(), "admin")
    finally:
        archive.close()
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_STAFF": "lead"}
    base = ["sign", "work_order", "WO-0001", "--as", "technician", "--on-behalf-of", "li"]
    missing = runner.invoke(app, base, env=env)
    assert missing.exit_code == 2 and "请填写原因" in missing.output
    done = runner.invoke(app, [*base, "--reason", "李师傅休假", "--json"], env=env)
    assert done.exit_code == 0, done.output
    view = json.loads(done.stdout)
    assert "technician" not in view["missing_roles"]
