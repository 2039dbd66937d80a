"""The JSON API under /api/v1 through the ASGI app, on each store: personal tokens, the write
path's rules and permissions as JSON errors, streamed scans, search after a write, /docs."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from archive import commands, queries
from archive.bootstrap import Archive
from archive.errors import BadInput
from events.staff import Staff
from tests.support import (
    VALID_VIN,
    FakeClock,
    event_count,
    pdf_bytes,
    png_bytes,
    warranty_claim,
    work_order,
)
from tests.webclient import WebClient
from web.api.multipart import StreamedForm
from web.app import create_app

SQLITE_ONLY = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
WO = "/documents/work_order/WO-0001"


class Api:
    """Calls /api/v1 as one of the team, by his personal token."""

    def __init__(self, client: WebClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def __call__(self, method: str, url: str, who: str | None = "admin", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, "/api/v1" + url, headers=headers, **kw)

    def ok(self, method: str, url: str, who: str = "admin", **kw: Any) -> Any:
        response = self(method, url, who, **kw)
        assert response.status_code in (200, 201), response.text
        return response.json()


@pytest.fixture
def api(team: Archive) -> Iterator[Api]:
    app = create_app(team, follow_log=False)  # the API and /docs are mounted by the app
    tokens = {
        username: commands.issue_token(team, username, "API 测试", "admin")[1]
        for username in ("admin", "clerk2", "wang", "li", "zhou", "sun", "auditor")
    }
    client = WebClient(app)
    try:
        yield Api(client, tokens)
    finally:
        client.close()
        app.state.read_models.close()


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert body["message_zh"] and body["message_en"]
    return body


def fields(response: httpx.Response) -> set[str]:
    body = refused(response, 422, response.json()["error"])
    return {p["field"] for p in body["problems"]}


# -- documents -----------------------------------------------------------------------------


def test_file_show_as_of_and_history(api: Api, clock: FakeClock) -> None:
    filed = api("POST", "/documents/work_order", json=work_order())
    assert filed.status_code == 201
    assert filed.headers["location"] == "/api/v1" + WO
    view = filed.json()
    assert (view["number"], view["version"], view["status"]) == (
        "WO-0001",
        1,
        "awaiting_signatures",
    )
    assert view["fields"]["mileage_km"] == 12345 and view["filed_by_name"] == "赵敏"
    shown = api.ok("GET", WO, "auditor")  # a read also gives the flags (from the read models)
    assert shown.pop("flags") == [] and shown.pop("flag_labels") == [] and shown == view
    clock.advance(hours=1)
    api.ok(
        "PATCH",
        WO,
        json={"changes": {"mileage_km": 12400}, "reason": "抄错", "expected_version": 1},
    )
    assert api.ok("GET", WO + "?version=1")["fields"]["mileage_km"] == 12345
    assert api.ok("GET", WO + "?as_of=2026-11-03T09:00")["version"] == 1  # 01:00 UTC = 09:00
    refused(api("GET", WO + "?as_of=2026-11-03 08:59"), 404, "document_not_found")
    assert fields(api("GET", WO + "?as_of=yesterday")) == {"as_of"}
    history = api.ok("GET", WO + "/history")
    assert [e["event"] for e in history] == ["Filed", "Amended"]
    assert history[1]["reason"] == "抄错"
    assert history[1]["changes"][0]["before"] == 12345
    refused(api("GET", "/documents/work_order/WO-9"), 404, "document_not_found")
    refused(api("GET", "/documents/bicycle/WO-1"), 404, "unknown_kind")


def test_bad_input_is_422_per_field_in_chinese_and_english(api: Api, team: Archive) -> None:
    before = event_count(team)
    wrong_digit = work_order(vin="1M8GDM9A1KP042788")
    body = refused(api("POST", "/documents/work_order", json=wrong_digit), 422, "invalid")
    [problem] = body["problems"]
    assert problem["field"] == "vin"
    assert "校验位" in problem["message_zh"] and "check digit" in problem["message_en"]
    many = api("POST", "/documents/work_order", json=work_order(mileage_km="-5", plate="ABC"))
    assert fields(many) == {"mileage_km", "plate"}
    not_json = api("POST", "/documents/work_order", content=b"{number:", headers={})
    assert fields(not_json) == {"body"}
    assert fields(api("POST", "/documents/work_order", json=["WO-1"])) == {"body"}
    assert event_count(team) == before  # nothing saved


def test_duplicate_number_and_stale_version_are_conflicts(api: Api) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    refused(api("POST", "/documents/work_order", json=work_order()), 409, "duplicate_number")
    change = {"changes": {"mileage_km": 12400}, "reason": "抄错里程", "expected_version": 1}
    assert api.ok("PATCH", WO, json=change)["version"] == 2
    stale = refused(api("PATCH", WO, json=change), 409, "stale_version")
    assert "第 2 版" in stale["message_zh"]
    typo = api("PATCH", WO, json={"change": {}, "reason": "x", "expected_version": 2})
    assert fields(typo) == {"change", "changes"}  # unknown keys are refused, not ignored
    assert api.ok("GET", WO)["fields"]["mileage_km"] == 12400


def test_an_auditor_reads_everything_and_changes_nothing(api: Api, team: Archive) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    before = event_count(team)
    attempts = [
        api("POST", "/documents/work_order", "auditor", json=work_order("WO-2")),
        api(
            "PATCH",
            WO,
            "auditor",
            json={"changes": {"model": "x"}, "reason": "r", "expected_version": 1},
        ),
        api("POST", WO + "/void", "auditor", json={"reason": "重复"}),
        api("POST", WO + "/scans", "auditor", files={"file": ("a.pdf", pdf_bytes())}),
        api("POST", "/staff", "auditor", json={"username": "x", "name": "某", "roles": ["clerk"]}),
    ]
    for response in attempts:
        body = refused(response, 403, "not_permitted")
        assert "吴审计没有权限" in body["message_zh"] and "auditor" in body["message_en"]
    signing = api("POST", WO + "/signatures", "auditor", json={"role": "technician"})
    refused(signing, 403, "role_not_held")
    assert event_count(team) == before
    assert api.ok("GET", WO, "auditor")["number"] == "WO-0001"
    assert api.ok("GET", "/search?q=刹车", "auditor")["total"] == 1
    assert api.ok("GET", "/worklist?staff=wang", "auditor")["staff"] == "wang"


def test_a_valid_token_is_needed_and_revocation_takes_effect_at_once(
    api: Api, team: Archive
) -> None:
    refused(api("GET", "/kinds", who=None), 401, "unauthenticated")
    bogus = {"Authorization": "Bearer arc_admin_0000_nope"}
    refused(api.client.get("/api/v1/kinds", headers=bogus), 401, "unauthenticated")
    assert len(api.ok("GET", "/kinds", "clerk2")) >= 10
    token_id = next(iter(team.app.repository.get(Staff.create_id("clerk2")).tokens))
    commands.revoke_token(team, "clerk2", token_id, "admin")
    refused(api("GET", "/kinds", "clerk2"), 401, "unauthenticated")
    commands.deactivate_staff(team, "wang", "离职", "admin")
    refused(api("GET", "/kinds", "wang"), 401, "unauthenticated")


@SQLITE_ONLY
def test_a_browser_session_needs_the_csrf_header_to_change_anything(
    api: Api, team: Archive
) -> None:
    commands.set_password(team, "admin", "correct horse 1", "admin")
    api.client.login("admin", "correct horse 1")
    assert api("GET", "/kinds/work_order", who=None).json()["code"] == "work_order"
    forged = api("POST", "/documents/work_order", who=None, json=work_order())
    refused(forged, 403, "csrf")
    token = api.client.csrf("/")
    headers = {"X-CSRF-Token": token}
    filed = api.client.post("/api/v1/documents/work_order", json=work_order(), headers=headers)
    assert filed.status_code == 201


# -- scans ---------------------------------------------------------------------------------


def test_scans_are_checked_streamed_and_served_only_when_attached(api: Api, team: Archive) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    before = event_count(team)
    gif = api("POST", WO + "/scans", files={"file": ("slip.pdf", b"GIF89a" + b"0" * 100)})
    assert refused(gif, 422, "unsupported_type")["problems"][0]["message_zh"]
    assert fields(api("POST", WO + "/scans", files={"label": (None, "x")})) == {"file"}
    assert fields(api("POST", WO + "/scans", json={"file": "x"})) == {""}  # not multipart
    assert event_count(team) == before

    scan = pdf_bytes("WO-0001 signed slip")
    upload = {"data": {"label": "委托书"}, "files": {"file": ("委托书;1.pdf", scan)}}
    view = api.ok("POST", WO + "/scans", **upload)
    [attached] = view["scans"]
    assert (attached["label"], attached["filename"]) == ("委托书", "委托书;1.pdf")
    sha = attached["sha256"]
    got = api("GET", f"/scans/{sha}", "auditor")
    assert got.status_code == 200 and got.content == scan
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{sha[:16]}.pdf"; filename*=UTF-8')
    assert disposition.endswith("%E5%A7%94%E6%89%98%E4%B9%A6%3B1.pdf")  # quoted: no ; of its own

    orphan = team.blobs.put_bytes(png_bytes(7)).sha256  # in the store, on no document
    refused(api("GET", f"/scans/{orphan}"), 404, "scan_not_found")
    assert api("GET", "/scans/..%2Fkeys").status_code in (404, 422)

    withdrawn = api.ok("POST", f"{WO}/scans/{sha}/withdraw", json={"reason": "扫描不清"})
    assert withdrawn["scans"][0]["withdrawn"] is True
    assert api("GET", f"/scans/{sha}").content == scan  # kept, and still readable


def test_an_oversized_upload_is_cut_off_while_it_streams(api: Api, team: Archive) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    team.blobs.max_bytes = 100_000
    boundary = "archive-test-boundary"
    sent = []

    async def body() -> Any:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"'
            "\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        ).encode()
        for _ in range(200):  # 6.4 MB if it were all read
            sent.append(1)
            yield b"0" * 32_768
        yield f"\r\n--{boundary}--\r\n".encode()

    too_big = api(
        "POST",
        WO + "/scans",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    refused(too_big, 422, "too_large")
    assert 0 < len(sent) < 10  # refused at the limit, not after reading the whole upload
    trailing = api(
        "POST",
        WO + "/scans",
        files=[("file", ("a.pdf", pdf_bytes())), ("label", (None, b"late"))],
    )
    refused(trailing, 422, "fields_after_file")
    assert api.ok("GET", WO)["scans"] == []


# -- signing, refusing, submitting, voiding, off-site --------------------------------------


def test_sign_refuse_submit_and_void(api: Api, team: Archive) -> None:
    claim = "/documents/warranty_claim/WC-0001"
    api.ok("POST", "/documents/work_order", json=work_order())  # the order the claim names
    api.ok("POST", "/documents/warranty_claim", json=warranty_claim())
    signed = api.ok("POST", claim + "/signatures", "li", json={"role": "technician"})
    assert signed["missing_roles"] == ["claims_clerk", "service_manager", "customer"]
    refusal = {"role": "claims_clerk", "reason": "缺旧件照片"}
    assert api.ok("POST", claim + "/refusals", "zhou", json=refusal)["refusals"][0]["reason"]
    assert "缺旧件照片" in str(api.ok("GET", "/worklist", "sun")["refused_signatures"])
    api.ok("POST", claim + "/signatures", "zhou", json={"role": "claims_clerk"})
    api.ok("POST", claim + "/signatures", "sun", json={"role": "service_manager"})
    no_evidence = api("POST", claim + "/signatures", json={"role": "customer"})
    refused(no_evidence, 422, "customer_signature_evidence")
    drawn = api.ok(
        "POST",
        claim + "/signatures",
        data={"role": "customer", "customer_name": "张三"},
        files={"signature_image": ("sig.png", png_bytes(3), "image/png")},
    )
    assert drawn["status"] == "complete"
    customer = next(s for s in drawn["signatures"] if s["role"] == "customer")
    assert customer["signer"] == "张三" and customer["image_sha256"] == drawn["scans"][0]["sha256"]
    unregistered = api("POST", claim + "/submission", "clerk2", json={"claim_no": "SVW1"})
    refused(unregistered, 403, "clerk_not_registered")
    # The pad's drawing is the customer's signature, not the paper's scan (issue 12 review).
    api.ok("POST", claim + "/scans", files={"file": ("claim.pdf", pdf_bytes("WC-0001"))})
    submitted = api.ok("POST", claim + "/submission", json={"claim_no": "SVW2026110001"})
    assert submitted["status"] == "submitted"
    assert submitted["submission"]["claim_no"] == "SVW2026110001"

    slip = api.ok("POST", WO + "/scans", files={"file": ("slip.pdf", pdf_bytes("signed"))})
    by_scan = {"role": "customer", "image_sha256": slip["scans"][0]["sha256"]}
    assert "customer" not in api.ok("POST", WO + "/signatures", json=by_scan)["missing_roles"]
    assert fields(api("POST", WO + "/void", "sun", json={"reason": " "})) == {"reason"}
    # The live claim names the order: void the claim first (issue 12 review).
    named = api("POST", WO + "/void", "sun", json={"reason": "重复开单"})
    refused(named, 409, "named_by_live_documents")
    assert "先作废或更正以下单据：三包索赔单 WC-0001" in named.json()["message_zh"]
    api.ok("POST", claim + "/void", "sun", json={"reason": "随委托书作废"})
    voided = api.ok("POST", WO + "/void", "sun", json={"reason": "重复开单"})
    assert voided["status"] == "voided" and voided["voided"]["reason"] == "重复开单"
    refused(api("POST", WO + "/void", "sun", json={"reason": "again"}), 409, "voided")


def test_offsite_departure_waits_for_the_clerks_signature(api: Api) -> None:
    order = {
        "number": "FW-01",
        "business_date": "2026-11-03",
        "place": "京承高速 K35 服务区",
        "technicians": "li",
        "handheld_terminal_id": "SC-03",
        "fault_description": "车辆无法启动",
    }
    api.ok("POST", "/documents/offsite_service", json=order)
    refused(api("POST", "/offsite/FW-01/departure", json={}), 409, "clerk_not_signed")
    api.ok("POST", "/documents/offsite_service/FW-01/signatures", json={"role": "clerk"})
    refused(api("POST", "/offsite/FW-01/departure", "li", json={}), 403, "not_permitted")
    api.ok("POST", "/offsite/FW-01/departure", json={"odometer_out": "48,120"})
    assert [e["number"] for e in api.ok("GET", "/worklist")["offsite_out"]] == ["FW-01"]
    bad = api("POST", "/offsite/FW-01/return", json={"mileage_claimed": "", "mileage_verified": -3})
    assert fields(bad) == {"mileage_claimed", "mileage_verified"}
    api.ok("POST", "/offsite/FW-01/return", json={"mileage_claimed": 86, "mileage_verified": 72})
    assert api.ok("GET", "/worklist")["offsite_out"] == []
    flagged = api.ok("GET", "/worklist", "sun")["mileage_differences"]
    assert [(e["number"], e["difference_km"]) for e in flagged] == [("FW-01", 14)]


# -- reading -------------------------------------------------------------------------------


def test_search_and_worklists_see_a_write_at_once(api: Api) -> None:
    api.ok("POST", "/documents/work_order", json=work_order())
    for query in ("刹车", VALID_VIN[-6:], f"vin:{VALID_VIN[-6:]} kind:work_order"):
        found = api.ok("GET", "/search", params={"q": query})
        assert [h["number"] for h in found["hits"]] == ["WO-0001"], query
    body = refused(api("GET", "/search", params={"q": "vin:12345"}), 422, "bad_query")
    assert body["problems"][0]["field"] == "q"
    assert fields(api("GET", "/search", params={"q": "刹车", "page_size": 1000})) == {"page_size"}

    card = api.ok("GET", f"/vehicles/{VALID_VIN.lower()}")
    assert [v["number"] for v in card["visits"]] == ["WO-0001"]
    refused(api("GET", "/vehicles/LSVAM4188C2184825"), 404, "vehicle_not_found")

    waiting = api.ok("GET", "/worklist", "wang")["waiting_for_my_signature"]
    assert [(e["number"], e["role"]) for e in waiting] == [("WO-0001", "service_advisor")]
    owed = api.ok("GET", "/worklist")["missing_signatures"]
    assert {group["owner_label"] for group in owed} >= {"王强", "李师傅"}
    refused(api("GET", "/worklist?staff=li", "wang"), 403, "not_permitted")
    assert api.ok("GET", "/worklist?staff=李师傅")["staff"] == "li"  # an admin may look


def test_staff_kinds_and_permissions(api: Api) -> None:
    assert {p["username"] for p in api.ok("GET", "/staff", "li")} >= {"admin", "auditor"}
    new = {"username": "zhao.lei", "name": "赵磊", "roles": ["technician"], "phone": "13900000000"}
    created = api("POST", "/staff", json=new)
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/staff/zhao.lei"
    refused(api("POST", "/staff", json=new), 409, "duplicate_username")
    refused(api("POST", "/staff", "clerk2", json={**new, "username": "x"}), 403, "not_permitted")
    bad = api("POST", "/staff", json={"username": "赵 磊", "name": "", "roles": ["pilot"]})
    assert fields(bad) == {"username", "name"}
    assert fields(api("POST", "/staff", json={"username": "a", "name": "b", "roles": ["x"]})) == {
        "roles"
    }
    roles = api.ok("PUT", "/staff/zhao.lei/roles", json={"roles": ["technician", "workshop_lead"]})
    assert roles["roles"] == ["technician", "workshop_lead"]
    gone = api.ok("POST", "/staff/zhao.lei/deactivate", json={"reason": "离职"})
    assert gone["active"] is False
    refused(api("GET", "/staff/nobody"), 404, "staff_not_found")

    kind = api.ok("GET", "/kinds/work_order")
    assert kind["label"] == "维修委托书" and "vin" in {f["code"] for f in kind["fields"]}
    submit = next(r for r in api.ok("GET", "/permissions", "auditor") if r["action"] == "submit")
    assert submit["roles"] == ["clerk"] and submit["registered_clerk"] is True


def test_a_csv_import_files_every_row_or_none(api: Api, team: Archive) -> None:
    codes = ["number", "business_date", "vin", "model", "mileage_km", "customer_name"]
    codes += ["customer_phone", "service_advisor"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(codes)
    writer.writerows([work_order(f"WO-{i}")[c] for c in codes] for i in (1, 2))
    text = out.getvalue()
    headers = {"content-type": "text/csv"}
    bad = text.replace(VALID_VIN, "1M8GDM9A1KP042788", 1)
    body = refused(
        api("POST", "/imports/work_order", content=bad.encode(), headers=headers),
        422,
        "import_failed",
    )
    assert [(p["line"], p["field"]) for p in body["problems"]] == [(2, "vin")]
    assert api.ok("POST", "/imports/work_order", content=text.encode("gbk"), headers=headers) == {
        "filed": 2,
        "numbers": ["WO-1", "WO-2"],
    }
    assert queries.show(team, "work_order", "WO-2")["fields"]["customer_name"] == "张三"


# -- errors and documentation --------------------------------------------------------------


@SQLITE_ONLY
def test_an_unexpected_error_is_json_without_a_trace(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret detail /srv/archive")

    monkeypatch.setattr(queries, "show", broken)
    response = api("GET", WO)
    refused(response, 500, "internal")
    assert "secret" not in response.text and "Traceback" not in response.text


@SQLITE_ONLY
def test_openapi_lists_the_api_and_docs_load_nothing_from_outside(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/documents/{kind}",
        "/api/v1/documents/{kind}/{number}",
        "/api/v1/documents/{kind}/{number}/scans",
        "/api/v1/documents/{kind}/{number}/signatures",
        "/api/v1/offsite/{number}/departure",
        "/api/v1/scans/{sha256}",
        "/api/v1/search",
        "/api/v1/worklist",
        "/api/v1/staff/{username}/roles",
    ):
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert "multipart/form-data" in str(paths["/api/v1/documents/{kind}/{number}/scans"])

    docs = api.client.get("/docs")
    assert docs.status_code == 200
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    assert not re.search(r"https?://", docs.text)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", docs.text, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', docs.text)
    assert "/openapi.json" in docs.text and len(assets) == 4
    for asset in assets:
        assert api.client.get(asset).status_code == 200, asset
    assert "SwaggerUIBundle" in api.client.get("/docs-static/init.js").text
    assert api.client.get("/redoc").status_code == 404  # FastAPI's CDN page is gone


def test_a_streamed_form_reads_the_same_in_any_chunks_and_refuses_a_cut_short_one() -> None:
    scan = pdf_bytes("chunks") * 50
    request = httpx.Request(
        "POST", "http://x/", data={"label": "委托书"}, files={"file": ("a.pdf", scan)}
    )
    body, content_type = request.read(), request.headers["content-type"]
    for size in (1, 13, 4096, len(body)):
        pieces = iter([body[i : i + size] for i in range(0, len(body), size)])
        form = StreamedForm(lambda pieces=pieces: next(pieces, b""), content_type)
        received = b"".join(iter(lambda form=form: form.read(1000), b""))
        assert (form.fields, form.filename, received) == ({"label": "委托书"}, "a.pdf", scan)
    cut = iter([body[:-200]])
    form = StreamedForm(lambda: next(cut, b""), content_type)
    with pytest.raises(BadInput) as caught:
        while form.read(65536):
            pass
    assert caught.value.code == "incomplete_upload"
