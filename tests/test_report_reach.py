"""How far ahead a report may be asked: a report of what happened stops at today, a list that
looks ahead (maintenance, greetings) reaches the period after its default; the page offers no
"next" link to a period it would refuse. The test's clock stands at 2026-11-03."""

from __future__ import annotations

from datetime import date

import pytest

from archive.errors import BadInput
from archive.reports.catalog import spec
from archive.reports.run import ask, latest_start
from tests.support import PASSWORD
from tests.webclient import WebClient

TODAY = date(2026, 11, 3)


def test_a_report_of_what_happened_stops_at_today() -> None:
    assert latest_start(spec("satisfaction"), TODAY) == TODAY
    assert ask("satisfaction", {"month": "2026-11"}, TODAY).period.label == "2026-11"
    with pytest.raises(BadInput) as refused:
        ask("satisfaction", {"month": "2026-12"}, TODAY)
    assert "还没到" in refused.value.message_zh


def test_the_maintenance_list_may_be_asked_for_next_month_not_later() -> None:
    assert latest_start(spec("maintenance"), TODAY) == date(2026, 12, 1)
    assert ask("maintenance", {"month": "2026-12"}, TODAY).period.label == "2026-12"
    with pytest.raises(BadInput):
        ask("maintenance", {"month": "2027-01"}, TODAY)


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_the_page_links_to_the_next_period_only_when_it_may_be_asked(web: WebClient) -> None:
    assert web.login("admin", PASSWORD).status_code == 303
    october = web.get("/reports/satisfaction?month=2026-10")
    assert 'href="/reports/satisfaction?month=2026-11" rel="next"' in october.text
    november = web.get("/reports/satisfaction?month=2026-11")
    assert november.status_code == 200
    assert 'rel="next"' not in november.text
    maintenance = web.get("/reports/maintenance?month=2026-11")
    assert 'href="/reports/maintenance?month=2026-12" rel="next"' in maintenance.text
    assert 'rel="next"' not in web.get("/reports/maintenance?month=2026-12").text
