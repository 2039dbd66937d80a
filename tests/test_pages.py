"""The HTML pages through the ASGI app: forms, refusals shown in place, nothing lost."""

from __future__ import annotations

import base64
import re
import uuid

import pytest

from archive import commands, queries
from archive.bootstrap import Archive
from archive.bundle.pipeline import print_document
from archive.integrity.keys import SignerKey
from archive.integrity.notes import parse_checkpoint, sign_checkpoint
from tests.support import (
    OTHER_VIN,
    PASSWORD,
    edit_manifest,
    event_count,
    pdf_bytes,
    png_bytes,
    work_order,
)
from tests.webclient import WebClient
from web.pages import verify as verify_page

BAD_VIN = OTHER_VIN[:8] + "7" + OTHER_VIN[9:]  # the check digit should be 8


def form(web: WebClient, page: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": web.csrf(page), **fields}


CLAIM = {
    "number": "WC-100",
    "business_date": "2026-11-03",
    "work_order_no": "WO-100",
    "vin": BAD_VIN,
    "mileage_km": "12,345",
    "technicians": "li",
    "fault_description": "刹车片磨损严重，制动异响",
    "handling_process": "更换前刹车片",
    "service_fee": "230",
    "parts[1][part_no]": "5QD698151",
    "parts[1][qty]": "1",
    "parts[1][damaged_part_returned]": "true",
}


@pytest.fixture(autouse=True)
def order_for_claims(team: Archive) -> None:
    """The work order WO-100 the claims name (a claim must name one the archive holds)."""
    commands.file_document(team, "work_order", work_order("WO-100", vin=OTHER_VIN), "admin")


def claim_fields() -> dict[str, str]:
    """The claim as the write path takes it (no form-style line cells)."""
    return {**{k: v for k, v in CLAIM.items() if "[" not in k}, "vin": OTHER_VIN}


def test_a_refused_form_keeps_values_and_shows_errors_by_the_field(
    web: WebClient, team: Archive
) -> None:
    web.login("admin", PASSWORD)
    before = event_count(team)
    refused = web.post("/file/warranty_claim", data=form(web, "/file/warranty_claim", **CLAIM))
    assert refused.status_code == 422
    vin_block = re.search(r'<div class="field[^"]*" data-field="vin".*?</div>', refused.text, re.S)[
        0
    ]
    assert "校验位" in vin_block and "has-error" in vin_block
    assert f'value="{BAD_VIN}"' in refused.text  # what was typed is still there
    assert "刹车片磨损严重" in refused.text and 'value="5QD698151"' in refused.text
    assert event_count(team) == before
    fixed = web.post(
        "/file/warranty_claim",
        data=form(web, "/file/warranty_claim", **{**CLAIM, "vin": OTHER_VIN}),
    )
    assert fixed.status_code == 303
    page = web.get(fixed.headers["location"])
    assert "已存档" in page.text and "三包索赔单" in page.text
    doc = queries.show(team, "warranty_claim", "WC-100")
    assert doc["fields"]["parts"] == [
        {"part_no": "5QD698151", "qty": 1, "damaged_part_returned": True}
    ]


def test_sign_scan_and_customer_pad_from_the_document_page(web: WebClient, team: Archive) -> None:
    web.login("admin", PASSWORD)
    web.post(
        "/file/warranty_claim",
        data=form(web, "/file/warranty_claim", **{**CLAIM, "vin": OTHER_VIN}),
    )
    page_url = "/d/warranty_claim/WC-100"
    upload = web.post(
        f"{page_url}/scans",
        data=form(web, page_url, label="已签字纸质单据"),
        files={"scan": ("slip.pdf", pdf_bytes("WC-100"), "application/pdf")},
    )
    assert upload.status_code == 303
    fake = web.post(
        f"{page_url}/scans",
        data=form(web, page_url),
        files={"scan": ("virus.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert fake.status_code == 422 and "只能上传 PDF" in fake.text
    drawn = "data:image/png;base64," + base64.b64encode(png_bytes(5)).decode()
    signed = web.post(
        f"{page_url}/customer-signature",
        data=form(web, page_url, signature_png=drawn, customer_name="张三"),
    )
    assert signed.status_code == 303
    view = queries.show(team, "warranty_claim", "WC-100")
    assert [s["role"] for s in view["signatures"]] == ["customer"]
    assert len(view["scans"]) == 2
    # The technician signs from his own session, in his own role only.
    tech = WebClient(web.app, owns_app=False)
    try:
        tech.login("li", PASSWORD)
        page = tech.get(page_url)
        assert 'data-sign="technician"' in page.text and 'data-sign="claims_clerk"' not in page.text
        refused = tech.post(f"{page_url}/sign", data=form(tech, page_url, role="claims_clerk"))
        assert refused.status_code == 403 and "不是索赔员" in refused.text
        assert (
            tech.post(f"{page_url}/sign", data=form(tech, page_url, role="technician")).status_code
            == 303
        )
    finally:
        tech.close()
    assert {s["role"] for s in queries.show(team, "warranty_claim", "WC-100")["signatures"]} == {
        "customer",
        "technician",
    }


def test_amend_from_a_stale_page_is_refused_and_nothing_changes(
    web: WebClient, team: Archive
) -> None:
    web.login("admin", PASSWORD)
    web.post(
        "/file/warranty_claim",
        data=form(web, "/file/warranty_claim", **{**CLAIM, "vin": OTHER_VIN}),
    )
    amend_url = "/d/warranty_claim/WC-100/amend"
    page = web.get(amend_url)
    seen = str(queries.show(team, "warranty_claim", "WC-100")["version"])  # links recorded too
    assert f'name="expected_version" value="{seen}"' in page.text
    fields = {**CLAIM, "vin": OTHER_VIN, "mileage_km": "12400", "expected_version": seen}
    fields.pop("number")
    no_reason = web.post(amend_url, data=form(web, amend_url, **fields, reason=""))
    assert no_reason.status_code == 422 and "请填写原因" in no_reason.text
    ok = web.post(amend_url, data=form(web, amend_url, **fields, reason="抄错里程"))
    assert ok.status_code == 303
    stale = web.post(
        amend_url, data=form(web, amend_url, **{**fields, "mileage_km": "99"}, reason="再改")
    )
    assert stale.status_code == 409 and "请刷新后再改" in stale.text
    history = queries.history(team, "warranty_claim", "WC-100")
    amended = [e for e in history if e["event"] == "Amended"]
    assert [c["field"] for c in amended[-1]["changes"]] == ["mileage_km"]
    assert queries.show(team, "warranty_claim", "WC-100")["fields"]["mileage_km"] == 12400


def test_auditor_reads_but_is_refused_every_change(web: WebClient, team: Archive) -> None:
    commands.file_document(team, "warranty_claim", claim_fields(), "admin")
    web.login("auditor", PASSWORD)
    page = web.get("/d/warranty_claim/WC-100")
    assert (
        page.status_code == 200 and "作废本单据" not in page.text and "上传扫描件" not in page.text
    )
    before = event_count(team)
    refused = web.post(
        "/d/warranty_claim/WC-100/void", data=form(web, "/d/warranty_claim/WC-100", reason="x")
    )
    assert refused.status_code == 403 and "没有权限" in refused.text
    staff_page = web.post(
        "/staff", data=form(web, "/staff", username="x", name="某", roles="clerk")
    )
    assert staff_page.status_code == 403
    assert event_count(team) == before


def test_search_vehicle_and_history_pages(web: WebClient, team: Archive) -> None:
    commands.file_document(team, "warranty_claim", claim_fields(), "admin")
    web.login("admin", PASSWORD)
    found = web.get("/search", params={"q": "刹车", "kind": "warranty_claim"})
    assert found.status_code == 200 and "WC-100" in found.text and 'class="match' in found.text
    by_vin = web.get("/search", params={"q": OTHER_VIN[-6:]})
    assert "WC-100" in by_vin.text
    bad = web.get("/search", params={"q": "vin:123"})
    assert bad.status_code == 400 and "17 位" in bad.text
    card = web.get("/vehicles", params={"vin": OTHER_VIN})
    assert "WC-100" in card.text and "12345" in card.text
    suffix = web.get("/vehicles", params={"vin": OTHER_VIN[-6:]})
    assert OTHER_VIN in suffix.text
    missing = web.get("/d/warranty_claim/NOPE")
    assert missing.status_code == 404 and "没有三包索赔单 NOPE" in missing.text


def test_an_auditor_checks_a_bundle_on_the_verify_page(
    web: WebClient, team: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands.file_document(team, "warranty_claim", claim_fields(), "admin")
    printed = print_document(team, "warranty_claim", "WC-100").pdf
    web.login("auditor", PASSWORD)
    page = web.get("/verify-bundle")
    assert page.status_code == 200 and "核验装订文件" in page.text
    assert "data-public-key" in page.text  # the key to take away for offline checks
    before = event_count(team)

    def upload(pdf: bytes, name: str = "WC-100.pdf"):
        token = web.csrf("/verify-bundle")
        return web.post(
            "/verify-bundle",
            data={"csrf_token": token},
            files={"bundle": (name, pdf, "application/pdf")},
        )

    good = upload(printed)
    assert good.status_code == 200
    assert 'data-verdict="intact"' in good.text and "WC-100.pdf 核验通过" in good.text
    assert "已用本档案室的公钥核对" in good.text
    assert "文字说明和人名也逐字比对" in good.text and "未逐字" not in good.text
    assert "此后均无变动" in good.text

    # Amended after it was printed: the printout still verifies, and the page says what changed.
    commands.amend_document(
        team, "warranty_claim", "WC-100", {"service_fee": "260"}, "金额有误", 2, "admin"
    )  # version 2: filed, then its link recorded
    before += 1  # that amendment; checking bundles adds nothing
    later = upload(printed)
    assert 'data-verdict="intact"' in later.text
    assert 'data-later-number="WC-100"' in later.text and "第 3 版" in later.text
    assert "修改" in later.text
    # The comparison itself: unknown here, older here than in the file, other content here.
    claim_id = queries.get_document(team, "warranty_claim", "WC-100")[1].id
    first_hash = queries.get_document(team, "warranty_claim", "WC-100", version=1)[1].content_hash
    assert queries.changes_since(team, uuid.uuid4(), 1, first_hash) == {"missing": True}
    assert queries.changes_since(team, claim_id, 9, first_hash)["behind"] is True  # type: ignore[index]
    assert queries.changes_since(team, claim_id, 1, "0" * 64)["differs"] is True  # type: ignore[index]
    current = queries.get_document(team, "warranty_claim", "WC-100")[1]
    assert queries.changes_since(team, claim_id, current.version, current.content_hash) is None

    altered = upload(
        edit_manifest(printed, lambda m: m["documents"][0].update(content_hash="a" * 64))
    )
    assert (
        'data-verdict="failed"' in altered.text and 'data-code="document_mismatch"' in altered.text
    )
    assert "WC-100" in altered.text

    # Re-signed with another key and carrying it: consistent with itself, refused all the same.
    intruder = SignerKey.generate("archive.intruder/v1")

    def resign(manifest: dict) -> None:
        body = parse_checkpoint(manifest["proof"]["checkpoint"]).body
        manifest["proof"]["checkpoint"] = sign_checkpoint(body, intruder)
        manifest["proof"]["public_key"] = intruder.verifier().text()

    resigned = upload(edit_manifest(printed, resign))
    assert 'data-code="key_mismatch"' in resigned.text

    nothing = web.post("/verify-bundle", data={"csrf_token": web.csrf("/verify-bundle")})
    assert nothing.status_code == 422 and "请选择要核验的 PDF 文件" in nothing.text
    junk = upload(b"not a pdf", "junk.pdf")
    assert 'data-code="not_a_pdf"' in junk.text
    monkeypatch.setattr(verify_page, "MAX_BUNDLE_BYTES", 1024 * 1024)
    too_big = upload(printed + b"\0" * (1024 * 1024))
    assert too_big.status_code == 413 and "文件超过 1 MB" in too_big.text
    assert event_count(team) == before
