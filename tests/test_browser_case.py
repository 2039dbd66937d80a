"""The case file in a real browser: a clerk opens a work order, clicks 新建三包索赔单（从此委托书）,
finds the shared fields filled in, completes and saves the claim, and sees it in the work
order's case file; then reviews the system's daily report draft.

Screenshots go to ``test-artifacts/screenshots`` (case-work-order, case-claim-form,
case-claim-page, case-file-with-claim, daily-report-draft).
"""

from __future__ import annotations

import pytest

from archive import commands, queries
from archive.bootstrap import Archive
from tests.support import VALID_VIN, work_order
from tests.test_browser import browser, log_in, server, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_claim_is_filed_from_a_work_orders_page(
    server: tuple[str, Archive],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    base, archive = server
    commands.file_document(archive, "work_order", work_order("WO-C1", technicians=["li"]), "admin")
    clerk = log_in(browser, base, "admin")
    clerk.goto(f"{base}/d/work_order/WO-C1")
    assert clerk.locator("table[data-case]").inner_text().count("还没有关联的单据") == 1
    shot(clerk, "case-work-order")

    clerk.click("a:has-text('新建三包索赔单（从此委托书）')")
    clerk.wait_for_url("**/file/warranty_claim?from=work_order%3AWO-C1")
    assert clerk.input_value("#f-work_order_no") == "WO-C1"
    assert clerk.input_value("#f-vin") == VALID_VIN
    assert clerk.input_value("#f-mileage_km") == "12345"
    assert clerk.input_value("#f-business_date") == "2026-11-03"
    assert clerk.is_checked("input[name=technicians][value=li]")
    assert clerk.input_value("#f-fault_description").startswith("制动时有异响")
    shot(clerk, "case-claim-form")

    clerk.fill("#f-number", "WC-C1")
    clerk.fill("#f-handling_process", "更换前刹车片，试车无异响")
    clerk.fill("#f-service_fee", "230")
    clerk.fill("input[name='parts[1][part_no]']", "5QD698151")
    clerk.fill("input[name='parts[1][qty]']", "1")
    clerk.click("button:has-text('存档')")
    clerk.wait_for_url(f"{base}/d/warranty_claim/WC-C1?filed=1")
    claim = queries.show(archive, "warranty_claim", "WC-C1")
    assert claim["fields"]["work_order_no"] == "WO-C1" and claim["fields"]["vin"] == VALID_VIN
    # Before 上报 the page says what is missing, and the button waits for it.
    assert "缺维修技师签字：李师傅" in clerk.locator("[data-submit-gaps]").inner_text()
    assert clerk.locator("button:has-text('登记上报')").is_disabled()
    shot(clerk, "case-claim-page")

    clerk.goto(f"{base}/d/work_order/WO-C1")
    row = clerk.locator("tr[data-case-doc='warranty_claim:WC-C1']")
    assert "已关联" in row.inner_text() and "待签字" in row.inner_text()
    shot(clerk, "case-file-with-claim")
    row.locator("a").click()
    clerk.wait_for_url(f"{base}/d/warranty_claim/WC-C1")

    clerk.goto(f"{base}/")
    clerk.click("a:has-text('起草日报')")
    clerk.wait_for_url(f"{base}/daily-report")
    assert clerk.locator("[data-draft-count]").inner_text() == "1"
    assert clerk.input_value("input[name='lines[1][work_order_no]']") == "WO-C1"
    shot(clerk, "daily-report-draft")
    clerk.context.close()
