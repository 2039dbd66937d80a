"""Every edge of the web app answers a clear error, through the ASGI app: bodies the API cannot
take, addresses and methods that do not exist, bad values in page addresses, and failures
nobody foresaw. Pages answer a Chinese HTML page, the API a JSON body; both carry the security
headers, and nothing with personal data may be cached. A refused request changes nothing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from archive import commands
from archive.bootstrap import Archive
from archive.errors import BadInput
from tests.support import event_count, pdf_bytes, work_order
from tests.webclient import WebClient
from web.app import create_app

PASSWORD = "counter-pass-1"
WO = "/api/v1/documents/work_order/WO-0001"
SQLITE_ONLY = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)

# Every write endpoint that reads a JSON body, with a body it would take.
JSON_WRITES = [
    ("POST", "/api/v1/documents/work_order", {"number": "WO-0002"}),
    ("PATCH", WO, {"changes": {}, "reason": "x", "expected_version": 1}),
    ("POST", WO + "/void", {"reason": "x"}),
    ("POST", WO + "/signatures", {"role": "service_advisor"}),
    ("POST", WO + "/refusals", {"role": "customer", "reason": "x"}),
    ("POST", "/api/v1/documents/warranty_claim/WC-1/submission", {"claim_no": "C1"}),
    ("POST", "/api/v1/offsite/OS-1/departure", {}),
    ("POST", "/api/v1/offsite/OS-1/return", {"mileage_claimed": 1, "mileage_verified": 1}),
]


class Edge:
    """The app on a small archive: a clerk's token for the API, a browser for the pages."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        commands.set_password(archive, "admin", PASSWORD, "admin")
        self.token = commands.issue_token(archive, "admin", "edges", "admin")[1]
        commands.file_document(archive, "work_order", work_order(), "admin")
        self.app = create_app(archive, follow_log=False)
        self.web = WebClient(self.app)

    def api(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.web.request(method, url, headers=headers, **kw)

    def raw(self, method: str, url: str, body: bytes) -> httpx.Response:
        return self.api(method, url, content=body, headers={"Content-Type": "application/json"})


@pytest.fixture
def edge(team: Archive) -> Iterator[Edge]:
    made = Edge(team)
    try:
        yield made
    finally:
        made.web.close()


def refused_json(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    assert re.search("[\u4e00-\u9fff]", body["message_zh"]), body  # said in Chinese
    assert body["message_en"].isascii() and body["message_en"], body
    return body


def refused_page(response: httpx.Response, status: int, says: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text and says in response.text
    assert_secured(response)


def assert_secured(response: httpx.Response) -> None:
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


# -- bodies the API cannot take: a clear 422 naming the body, nothing changed -----------------


@pytest.mark.parametrize(("method", "url", "body"), JSON_WRITES)
def test_a_body_that_is_not_utf8_is_refused_on_every_json_write(
    edge: Edge, method: str, url: str, body: dict[str, Any]
) -> None:
    before = event_count(edge.archive)
    answer = edge.raw(method, url, b'{"reason": "\xff\xfe"}')
    problems = refused_json(answer, 422, "not_utf8")["problems"]
    assert [p["field"] for p in problems] == ["body"]
    assert event_count(edge.archive) == before


def test_numbers_of_thousands_of_digits_are_refused(edge: Edge) -> None:
    before = event_count(edge.archive)
    for number in (b"9" * 5000, b"1." + b"5" * 5000, b"1e999"):
        body = b'{"number": "WO-0009", "mileage_km": ' + number + b"}"
        answer = edge.raw("POST", "/api/v1/documents/work_order", body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] in ("number_too_long", "number_too_large")
    for constant in (b"NaN", b"Infinity", b"-Infinity"):  # not JSON at all
        answer = edge.raw("POST", "/api/v1/documents/work_order", b'{"mileage_km": %s}' % constant)
        refused_json(answer, 422, "json_invalid")
    assert event_count(edge.archive) == before


def test_a_lone_surrogate_is_refused_not_a_server_error(edge: Edge) -> None:
    before = event_count(edge.archive)
    for body in (b'{"reason": "\\ud800"}', b'{"reason": "ok", "\\udfff": 1}'):
        refused_json(edge.raw("POST", WO + "/void", body), 422, "invalid_text")
    # A pair of surrogates is one character (an emoji): that is text like any other.
    assert edge.raw("POST", WO + "/void", b'{"reason": "\\ud83d\\ude00"}').status_code == 200
    assert event_count(edge.archive) == before + 1


def test_json_nested_100000_deep_is_refused(edge: Edge) -> None:
    before = event_count(edge.archive)
    deep = b"[" * 100_000 + b"]" * 100_000
    for method, url, _ in JSON_WRITES[:3]:
        refused_json(edge.raw(method, url, b'{"changes": ' + deep + b"}"), 422, "too_deep")
    # Brackets inside strings are text, not nesting.
    text = b'{"reason": "' + b"[" * 400 + b'"}'
    assert edge.raw("POST", WO + "/void", text).status_code == 200
    assert event_count(edge.archive) == before + 1


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(edge: Edge) -> None:
    huge = b'{"reason": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    refused_json(edge.raw("POST", WO + "/void", huge), 413, "too_large")


@SQLITE_ONLY
def test_a_form_over_the_limit_is_refused_before_it_is_read_whole(edge: Edge) -> None:
    csrf = edge.web.csrf("/login")
    huge = {"csrf_token": csrf, "username": "admin", "password": "x" * (2 * 1024 * 1024)}
    refused_page(edge.web.post("/login", data=huge), 413, "请求内容太大")
    scripted = edge.web.post("/login", data=huge, headers={"Accept": "application/json"})
    assert scripted.status_code == 413 and scripted.json()["message_zh"] == "请求内容太大"


@pytest.mark.parametrize("version", [str(2**63), str(2**64 + 5), "-1", "0"])
def test_a_version_out_of_range_is_refused(edge: Edge, version: str) -> None:
    answer = edge.api("GET", f"{WO}?version={version}")
    body = refused_json(answer, 422, "invalid")
    assert [p["field"] for p in body["problems"]] == ["version"]


# -- no such address, no such method: the same error, HTML or JSON ---------------------------


@SQLITE_ONLY
def test_an_unknown_address_is_a_page_for_browsers_and_json_under_the_api(edge: Edge) -> None:
    page = edge.web.get("/no/such/page")
    refused_page(page, 404, "没有这个地址")
    assert "<h1>找不到</h1>" in page.text
    answer = edge.api("GET", "/api/v1/no/such/thing")
    refused_json(answer, 404, "not_found")
    assert_secured(answer)


@SQLITE_ONLY
def test_options_and_wrong_methods_name_every_method_the_address_takes(edge: Edge) -> None:
    # GET and PATCH live on two routes of one address: Starlette named only the first.
    answer = edge.api("OPTIONS", WO)
    refused_json(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "GET, PATCH"
    assert edge.api("DELETE", WO).headers["allow"] == "GET, PATCH"
    assert edge.api("OPTIONS", WO + "/void").headers["allow"] == "POST"
    # Registering staff is a POST: Starlette said "Allow: GET" (the list's route came first).
    assert edge.api("OPTIONS", "/api/v1/staff").headers["allow"] == "GET, POST"
    assert edge.web.request("OPTIONS", "/login").headers["allow"] == "GET, POST"
    assert edge.api("HEAD", "/api/v1/kinds").headers["allow"] == "GET"  # FastAPI adds no HEAD
    edge.web.login("admin", PASSWORD)
    page = edge.web.request("PUT", "/months/2026-11/seal")
    refused_page(page, 405, "不接受这种请求方式")
    assert page.headers["allow"] == "POST"


# -- pages: bad values in addresses are Chinese pages with the headers -----------------------


@SQLITE_ONLY
def test_bad_values_in_page_addresses_answer_chinese_pages(edge: Edge) -> None:
    edge.web.login("admin", PASSWORD)
    csrf = edge.web.csrf("/")
    before = event_count(edge.archive)
    refused_page(edge.web.get("/months/2026-13"), 422, "不是月份")
    refused_page(edge.web.post("/months/foo/seal", data={"csrf_token": csrf}), 422, "不是月份")
    for bad in ("abc", "1.5"):  # the supplement number of a bundle download
        refused_page(
            edge.web.get(f"/months/2026-11/bundles/{bad}/full.pdf"), 422, "地址有误：补充卷应为整数"
        )
    refused_page(edge.web.get(f"/months/2026-11/bundles/{2**70}/full.pdf"), 404, "还没有生成")
    refused_page(edge.web.get("/months/2026-11/bundles/0/nope.pdf"), 404, "没有这种装订方式")
    refused_page(edge.web.get("/jobs/no-such-job"), 404, "没有这个任务")
    made = edge.web.post(
        "/months/2026-11/bundles", data={"csrf_token": csrf, "binding": "full", "supplement": "x"}
    )
    refused_page(made, 422, "表单有误：补充卷应为整数")
    assert event_count(edge.archive) == before


# -- failures nobody foresaw: an apology with the headers, never a trace ---------------------


def _failing_client(edge: Edge) -> WebClient:
    def broken() -> None:
        raise RuntimeError("secret detail of the failure")

    edge.app.add_api_route("/broken", broken)  # a page the test breaks on purpose
    client = WebClient(edge.app, owns_app=False)
    # The app answers the failure itself; the transport must not re-raise it to the test.
    transport = httpx.ASGITransport(app=edge.app, raise_app_exceptions=False)
    client.client = httpx.AsyncClient(transport=transport, base_url="http://archive.test")
    return client


@SQLITE_ONLY
def test_a_server_error_is_an_apology_page_with_the_security_headers(edge: Edge) -> None:
    client = _failing_client(edge)
    try:
        page = client.get("/broken")
        refused_page(page, 500, "系统出错了")
        assert "<h1>出错了</h1>" in page.text
        assert "secret detail" not in page.text and "Traceback" not in page.text
        scripted = client.get("/broken", headers={"Accept": "application/json"})
        assert scripted.status_code == 500 and scripted.json()["error"] == "internal"
        assert_secured(scripted)
    finally:
        client.close()


# -- nothing personal is cached; /healthz says more only to staff -----------------------------


@SQLITE_ONLY
def test_pages_pdfs_scans_and_api_answers_are_never_stored_static_files_are(
    edge: Edge,
) -> None:
    scan = edge.api(
        "POST",
        WO + "/scans",
        files={"file": ("slip.pdf", pdf_bytes("slip"), "application/pdf")},
    )
    assert scan.status_code == 200, scan.text
    sha = next(s["sha256"] for s in scan.json()["scans"])
    assert edge.api("GET", f"/api/v1/scans/{sha}").headers["cache-control"] == "no-store"
    assert edge.api("GET", WO).headers["cache-control"] == "no-store"
    edge.web.login("admin", PASSWORD)
    for address in ("/", "/d/work_order/WO-0001", "/d/work_order/WO-0001/print.pdf"):
        answer = edge.web.get(address)
        assert answer.status_code == 200, address
        assert_secured(answer)
    style = edge.web.get("/static/app.css")
    assert style.status_code == 200 and "cache-control" not in style.headers
    assert "content-security-policy" in style.headers
    missing = edge.web.get("/static/no-such.css")  # a page naming who is logged in
    assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"


@SQLITE_ONLY
def test_healthz_says_only_ok_without_a_login(edge: Edge) -> None:
    assert edge.web.get("/healthz").json() == {"ok": True}
    told = edge.api("GET", "/healthz").json()
    assert told["ok"] is True and told["events"] == event_count(edge.archive)
    assert {p["name"] for p in told["projections"]} >= {"search"}


# -- the schema says what the server checks ---------------------------------------------------


@SQLITE_ONLY
def test_the_openapi_schema_says_what_the_server_checks(edge: Edge) -> None:
    spec = edge.web.get("/openapi.json").json()
    models = spec["components"]["schemas"]
    reason = models["Reason"]["properties"]["reason"]
    assert reason["minLength"] == 1 and reason["maxLength"] == 500 and reason["pattern"]
    assert "customer" in models["RefusalRequest"]["properties"]["role"]["enum"]
    assert models["NewStaff"]["properties"]["username"]["pattern"]
    assert models["Amendment"]["properties"]["expected_version"]["minimum"] == 1
    show = spec["paths"]["/api/v1/documents/{kind}/{number}"]["get"]["parameters"]
    params = {p["name"]: p["schema"] for p in show}
    assert "work_order" in params["kind"]["enum"]
    version = params["version"]["anyOf"][0]
    assert version["minimum"] == 1 and version["maximum"] < 2**63
    assert params["as_of"]["format"] == "date-time"
    submit = spec["paths"]["/api/v1/documents/{kind}/{number}/submission"]["post"]
    assert next(p for p in submit["parameters"] if p["name"] == "kind")["schema"]["enum"] == [
        "warranty_claim"
    ]


def test_a_string_left_open_is_refused_at_once() -> None:
    """A body that opens a string and never closes it, full of escaped quotes, was read to its
    end again at every quote (40 KB: 4.4 s of the event loop, before any login was checked)."""
    from web.api.jsonbody import parse_json

    body = ('"' + '\\"' * 20_000).encode()  # 40 KB
    started = time.perf_counter()
    with pytest.raises(BadInput) as refused:
        parse_json(body)
    assert refused.value.code == "json_invalid"
    assert time.perf_counter() - started < 1.0
