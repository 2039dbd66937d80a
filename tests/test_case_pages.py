"""Issue 12 on the pages: a work order's page is its case file and creates papers from it, link
refusals are shown at the field with the reasons offered, flags are shown with their reasons,
代签 is offered to whom the permission table allows, 上报 says what is missing, the daily
report is drafted by the system, follow-ups and late submissions are on the dashboard and the
month page, and a car is found by VIN, its ending, or its plate."""

from __future__ import annotations

import re
from typing import Any

import pytest

from archive import commands, queries
from archive.bootstrap import Archive
from tests.support import PASSWORD, VALID_VIN, event_count, pdf_bytes, warranty_claim, work_order
from tests.test_case_file import callback
from tests.webclient import WebClient

SQLITE = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)


def form(web: WebClient, page: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": web.csrf(page), **fields}


def field_block(html: str, code: str) -> str:
    match = re.search(rf'<div class="field[^"]*" data-field="{code}".*?</div>', html, re.S)
    assert match, f"no field {code}"
    return match[0]


def claim_form(**overrides: str) -> dict[str, str]:
    """A claim as the filing form posts it (technicians as usernames, line cells)."""
    data = {
        "number": "WC-0001",
        "business_date": "2026-11-03",
        "work_order_no": "WO-0001",
        "vin": VALID_VIN,
        "mileage_km": "12345",
        "technicians": "li",
        "fault_description": "发动机故障灯亮",
        "handling_process": "更换点火线圈",
        "service_fee": "230",
        "parts[1][part_no]": "06H905110G",
        "parts[1][qty]": "1",
    }
    data.update(overrides)
    return data


def login(web: WebClient, team: Archive, username: str) -> None:
    commands.set_password(team, username, PASSWORD, "admin")
    assert web.login(username, PASSWORD).status_code == 303


def test_a_claim_is_filed_from_its_work_orders_page_and_shows_in_its_case_file(
    web: WebClient, team: Archive
) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    web.login("admin", PASSWORD)
    page = web.get("/d/work_order/WO-0001")
    assert page.status_code == 200 and "data-case" in page.text and "还没有关联的单据" in page.text
    for label in (
        "新建三包索赔单（从此委托书）",
        "新建问诊表（从此委托书）",
        "新建首保凭证（从此委托书）",
    ):
        assert label in page.text, label
    url = re.search(r'href="([^"]+)" data-create="warranty_claim"', page.text)[1]
    assert url == "/file/warranty_claim?from=work_order%3AWO-0001"
    opened = web.get(url.replace("&amp;", "&"))
    assert opened.status_code == 200 and "data-source" in opened.text
    assert f'value="{VALID_VIN}"' in field_block(opened.text, "vin")
    assert 'value="WO-0001"' in field_block(opened.text, "work_order_no")
    assert 'value="12345"' in field_block(opened.text, "mileage_km")
    assert "checked" in field_block(opened.text, "technicians")  # 李师傅, as on the order
    # Refused (no number), the form still says which order it was created from.
    source = {"from": "work_order:WO-0001"}
    no_number = web.post(
        "/file/warranty_claim", data=form(web, url, **claim_form(number=""), **source)
    )
    assert no_number.status_code == 422 and "data-source" in no_number.text
    filed = web.post("/file/warranty_claim", data=form(web, url, **claim_form(), **source))
    assert filed.status_code == 303, filed.text[:3000]
    claim_page = web.get("/d/warranty_claim/WC-0001").text
    assert 'href="/d/work_order/WO-0001" data-linked="work_order_no"' in claim_page
    case = web.get("/d/work_order/WO-0001").text
    assert 'data-case-doc="warranty_claim:WC-0001"' in case and "已关联" in case
    # An unknown source is said in Chinese on the form; nothing is filed.
    missing = web.get("/file/warranty_claim?from=work_order:WO-9999")
    assert missing.status_code == 404 and "WO-9999" in missing.text


@SQLITE
def test_a_refused_link_is_shown_at_its_field_and_filed_with_a_reason(
    web: WebClient, team: Archive
) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    web.login("admin", PASSWORD)
    before = event_count(team)
    data = claim_form(work_order_no="WO-9999", number="WC-0009")
    refused = web.post("/file/warranty_claim", data=form(web, "/file/warranty_claim", **data))
    assert refused.status_code == 422 and event_count(team) == before
    block = field_block(refused.text, "work_order_no")
    assert "has-error" in block and "没有维修委托书 WO-9999" in block
    assert 'value="WO-9999"' in block and "发动机故障灯亮" in refused.text  # kept as typed
    assert '<details class="link-reasons" open' in refused.text
    assert "从系统上线前的纸质单据补录，请说明原因" in refused.text
    unlinked = web.post(
        "/file/warranty_claim",
        data=form(web, "/file/warranty_claim", **data, unlinked_reason="2025 年纸质单据补录"),
    )
    assert unlinked.status_code == 303
    page = web.get("/d/warranty_claim/WC-0009").text
    assert 'data-flag="unlinked"' in page and "2025 年纸质单据补录" in page

    commands.file_document(team, "warranty_claim", warranty_claim(), "admin")
    second = claim_form(number="WC-0002", mileage_km="12400")
    refused = web.post("/file/warranty_claim", data=form(web, "/file/warranty_claim", **second))
    assert refused.status_code == 422 and "已有三包索赔单 WC-0001" in refused.text
    assert 'name="further_reason"' in refused.text
    further = web.post(
        "/file/warranty_claim",
        data=form(web, "/file/warranty_claim", **second, further_reason="同一次维修另一故障"),
    )
    assert further.status_code == 303
    page = web.get("/d/warranty_claim/WC-0002").text
    assert 'data-flag="further_claim"' in page and "同一次维修另一故障" in page
    assert 'data-flag="mileage_mismatch"' in page and "12345" in page and "12400" in page

    # Amending a link: refused at the field on the amend form, accepted with the reason.
    amend_url = "/d/warranty_claim/WC-0001/amend"
    version = str(queries.show(team, "warranty_claim", "WC-0001")["version"])
    fields = {
        **claim_form(work_order_no="WO-8888"),
        "technicians": "li",
        "expected_version": version,
        "reason": "委托书号抄错",
    }
    fields.pop("number")
    before = event_count(team)
    refused = web.post(amend_url, data=form(web, amend_url, **fields))
    assert refused.status_code == 422 and event_count(team) == before
    assert "没有维修委托书 WO-8888" in field_block(refused.text, "work_order_no")
    assert '<details class="link-reasons" open' in refused.text
    amended = web.post(amend_url, data=form(web, amend_url, **fields, unlinked_reason="旧单补录"))
    assert amended.status_code == 303
    assert 'data-flag="unlinked"' in web.get("/d/warranty_claim/WC-0001").text


@SQLITE
def test_sign_on_behalf_is_offered_to_the_workshop_lead_only(web: WebClient, team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    commands.file_document(team, "warranty_claim", warranty_claim(), "admin")
    for username, name, role in (
        ("lead", "郑组长", "workshop_lead"),
        ("he", "何师傅", "technician"),
    ):
        commands.register_staff(team, username=username, name=name, roles=[role], actor="admin")
    url = "/d/warranty_claim/WC-0001"
    login(web, team, "he")  # a technician the claim does not name
    page = web.get(url).text
    assert 'data-sign="technician"' not in page and "data-on-behalf" not in page
    assert "本三包索赔单的维修技师是李师傅" in page and "维修组长代签" in page
    refused = web.post(url + "/sign", data=form(web, url, role="technician"))
    assert refused.status_code == 403 and "不能以维修技师身份签字" in refused.text

    login(web, team, "lead")
    page = web.get(url).text
    assert 'data-on-behalf="technician"' in page and '<option value="li">李师傅</option>' in page
    before = event_count(team)
    no_reason = web.post(url + "/sign", data=form(web, url, role="technician", on_behalf_of="li"))
    assert no_reason.status_code == 422 and event_count(team) == before
    signed = web.post(
        url + "/sign",
        data=form(web, url, role="technician", on_behalf_of="li", on_behalf_reason="李师傅休假"),
    )
    assert signed.status_code == 303
    page = web.get(url).text
    assert 'data-flag="on_behalf"' in page and "郑组长 代 李师傅" in page and "李师傅休假" in page


@SQLITE
def test_submission_says_what_is_missing_and_a_late_one_is_marked(
    web: WebClient, team: Archive
) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    commands.file_document(team, "warranty_claim", warranty_claim(), "admin")
    web.login("admin", PASSWORD)
    url = "/d/warranty_claim/WC-0001"
    page = web.get(url).text
    gaps = re.search(r"<div class=\"notice warn-box\" data-submit-gaps>.*?</div>", page, re.S)[0]
    assert "还不能上报服务中心" in gaps and "缺维修技师签字：李师傅" in gaps
    assert "缺纸质单据扫描件" in gaps and "任一索赔员" in gaps
    before = event_count(team)
    refused = web.post(url + "/submit", data=form(web, url, claim_no="SVW-1"))
    assert refused.status_code == 409 and "尚未在当前版本上签字" in refused.text
    assert event_count(team) == before

    scan = commands.attach_scan(team, "warranty_claim", "WC-0001", _pdf(), "admin", "wc.pdf", "")
    sha = scan.scans[-1].sha256
    for role, who in (("technician", "li"), ("claims_clerk", "zhou"), ("service_manager", "sun")):
        commands.sign_document(team, "warranty_claim", "WC-0001", role, who)
    commands.sign_document(team, "warranty_claim", "WC-0001", "customer", "admin", image_sha256=sha)
    team.clock.advance(days=30)  # type: ignore[attr-defined]
    assert "data-submit-gaps" not in web.get(url).text
    done = web.post(url + "/submit", data=form(web, url, claim_no="SVW-1"))
    assert done.status_code == 303
    page = web.get(url).text
    assert "data-late" in page and 'data-flag="late_submission"' in page and "截止日期" in page
    dashboard = web.get("/").text
    late = re.search(r'data-section="claims_late">.*?</section>', dashboard, re.S)[0]
    assert "WC-0001" in late
    month = web.get("/months/2026-11").text
    assert "data-late-submissions" in month and "逾期上报 1 份" in month
    # Amended after submission: it must be submitted again, and the page says why.
    version = queries.show(team, "warranty_claim", "WC-0001")["version"]
    commands.amend_document(
        team, "warranty_claim", "WC-0001", {"service_fee": "260"}, "金额有误", version, "admin"
    )
    page = web.get(url).text
    assert 'data-flag="submission_withdrawn"' in page and "修改后须重新上报：金额有误" in page
    assert "data-submit-gaps" in page  # the signatures are on the old version


def _pdf() -> Any:
    import io

    return io.BytesIO(pdf_bytes("已签字的三包索赔单"))


@SQLITE
def test_the_daily_report_is_drafted_reviewed_and_filed(web: WebClient, team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    commands.file_document(
        team, "work_order", work_order("WO-0002", repair_type="保养", parts_lines=[]), "admin"
    )
    web.login("admin", PASSWORD)
    assert "起草日报" in web.get("/").text
    page = web.get("/daily-report?day=2026-11-03")
    assert page.status_code == 200 and "起草日报" in page.text
    assert "data-draft-count>2<" in page.text and "data-draft-revenue>720.50<" in page.text
    assert 'value="DR20261103"' in page.text and 'value="WO-0002"' in page.text
    draft = commands.draft_daily_report(team, queries.parse_instant("2026-11-03").date())
    data = {"number": draft["number"], "business_date": "2026-11-03"}
    for i, line in enumerate(draft["lines"], start=1):
        data.update({f"lines[{i}][{k}]": v for k, v in line.items()})
    wrong = {**data, "work_order_count": "2", "revenue": "99999"}
    refused = web.post("/file/daily_report", data=form(web, "/daily-report", **wrong))
    assert refused.status_code == 422 and "产值 99999" in refused.text
    filed = web.post(
        "/file/daily_report",
        data=form(web, "/daily-report", **data, work_order_count="2", revenue=draft["revenue"]),
    )
    assert filed.status_code == 303
    again = web.get("/daily-report?day=2026-11-03").text
    assert "data-existing" in again
    bad_day = web.get("/daily-report?day=2026-13-01")
    assert bad_day.status_code == 422 and "请写成 2026-11-03" in bad_day.text


@SQLITE
def test_follow_ups_on_the_dashboard_link_to_the_form_that_answers_them(
    web: WebClient, team: Archive
) -> None:
    commands.file_document(team, "work_order", work_order(business_date="2026-10-31"), "admin")
    commands.file_document(
        team, "callback", callback(business_date="2026-11-02", problem=True), "admin"
    )
    web.login("admin", PASSWORD)
    dashboard = web.get("/").text
    problems = re.search(r'data-section="customer_problems">.*?</section>', dashboard, re.S)[0]
    assert "CB-0001" in problems and "新建快速处理表（从此回访）" in problems
    url = re.search(r'href="(/file/quick_handling\?from=[^"]+)"', problems)[1]
    opened = web.get(url).text
    assert 'value="CB-0001"' in field_block(opened, "source_no")
    assert "新建快速处理表（从此回访）" in web.get("/d/callback/CB-0001").text
    full = web.get("/todo/customer_problems")
    assert full.status_code == 200 and "新建快速处理表（从此回访）" in full.text

    # A delivered car's callback is due 7 days after delivery, with a link to record it.
    commands.register_staff(
        team, username="xiao", name="肖丽", roles=["sales_consultant"], actor="admin"
    )
    registration = {
        "number": "BX-0001", "business_date": "2026-10-27", "vin": "1M8GDM9AXKP042788",
        "customer_name": "张三", "customer_phone": "13800138000", "purchase_date": "2026-10-25",
        "delivery_date": "2026-10-27", "sales_consultant": "xiao",
    }  # fmt: skip
    commands.file_document(team, "warranty_registration", registration, "admin")
    dashboard = web.get("/").text
    assert "交车回访" in dashboard and "保修登记表 BX-0001" in dashboard
    record = "/file/callback?from=warranty_registration%3ABX-0001"
    assert f'href="{record}"' in dashboard
    opened = web.get(record).text
    assert 'value="BX-0001"' in field_block(opened, "registration_no")


@SQLITE
def test_a_car_is_found_by_plate_with_or_without_province_and_its_customer_shown(
    web: WebClient, team: Archive
) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    web.login("admin", PASSWORD)
    for key in ("京A12345", "A12345", VALID_VIN[-6:], VALID_VIN, "13800138000"):
        page = web.get("/vehicles", params={"q": key}).text
        assert f'data-vehicle="{VALID_VIN}"' in page, key
        assert "进厂 1 次" in page and "王强" in page, key
    assert "data-nothing" in web.get("/vehicles", params={"q": "京Z99999"}).text
    customer = web.get("/customers/13800138000")
    assert customer.status_code == 200 and "张三" in customer.text and "WO-0001" in customer.text
    assert "12345" in customer.text and "王强" in customer.text
    listed = web.get("/customers", params={"q": "张"}).text
    assert 'href="/customers/13800138000"' in listed
    assert web.get("/customers/13900000000").status_code == 404
