"""A mistyped amount is refused, never saved as another number: thousands separators are taken
only in groups of three ("1,234.50"), and "12,34" or "1,2,3,4" ask how to write the amount.
Through the parser, the fee command line and the fee report's form (one shared Money type)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from typer.testing import CliRunner

from archive.bootstrap import Archive
from archive.cli import app as cli
from archive.config import Settings
from archive.kinds.fieldtypes import Integer, Invalid, Mileage, Money
from tests.support import PASSWORD, event_count, file_claim, sign_and_scan_claim

MISTYPED = ("12,34", "12,34元", "1,2,3,4", "1,23,4", "1,234,5", ",123", "1,234.5,0", "12，34")


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1,234.50", "1234.50"),
        ("12,345", "12345.00"),
        ("1，234,567.00", "1234567.00"),
        ("１,２３４", "1234.00"),
        ("¥1,234元", "1234.00"),
        ("12.34元", "12.34"),
    ],
)
def test_separators_in_groups_of_three_are_read(typed: str, amount: str) -> None:
    assert Money().parse(typed, None) == Decimal(amount)


@pytest.mark.parametrize("typed", MISTYPED)
def test_a_comma_out_of_place_is_refused_with_how_to_write_it(typed: str) -> None:
    with pytest.raises(Invalid) as caught:
        Money().parse(typed, None)
    assert "每三位一个" in caught.value.message_zh and "1,234.50" in caught.value.message_zh


def test_counts_and_mileage_take_the_same_rule() -> None:
    assert Integer().parse("1,234", None) == 1234
    assert Mileage().parse("12,345 km", None) == 12345
    for parse in (Integer().parse, Mileage().parse):
        with pytest.raises(Invalid):
            parse("12,34", None)


def submitted_october_claim(archive: Archive) -> None:
    from archive import commands

    file_claim(archive, "WC-0001", business_date="2026-10-20", service_fee="230.00")
    sign_and_scan_claim(archive, "WC-0001")
    commands.submit_claim(archive, "warranty_claim", "WC-0001", "FVC-1", "admin")


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_the_fee_command_refuses_a_mistyped_amount(
    team: Archive, store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted_october_claim(team)
    monkeypatch.setenv("ARCHIVE_HOME", str(store_settings.home))
    before = event_count(team)
    asked = CliRunner().invoke(
        cli, ["fee", "request", "--month", "2026-10", "--amount", "1,2,3,4", "--staff", "admin"]
    )
    assert asked.exit_code == 2 and "每三位一个" in asked.output, asked.output
    assert event_count(team) == before


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_the_fee_form_refuses_a_mistyped_amount(web, team: Archive) -> None:
    submitted_october_claim(team)
    web.login("admin", PASSWORD)
    token = web.csrf("/reports/service-fee?month=2026-10")
    before = event_count(team)
    sent = web.post(
        "/fees/2026-10/receive",
        data={"csrf_token": token, "invoice_no": "No1", "amount": "12,34元", "received_on": ""},
    )
    assert sent.status_code == 422 and "每三位一个" in sent.text
    assert event_count(team) == before
    sent = web.post(
        "/fees/2026-10/request", data={"csrf_token": token, "amount": "1,234.50", "note": ""}
    )
    assert sent.status_code == 303
    assert web.get("/api/v1/fees/2026-10").json()["request"]["amount"] == "1234.50"
