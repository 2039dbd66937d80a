"""A clerk's day in a real browser: Debian's Chromium driven by Playwright.

Screenshots of the main pages go to ``test-artifacts/screenshots`` (git-ignored).
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from pypdf import PdfReader

from archive import commands, queries
from archive.bootstrap import Archive, open_archive
from archive.config import Settings
from archive.errors import NotFound
from tests.support import OTHER_VIN, VALID_VIN, FakeClock, pdf_bytes, register_team, work_order
from web.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PASSWORD = "browser-pass-1"
BAD_VIN = OTHER_VIN[:8] + "7" + OTHER_VIN[9:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Archive]]:
    home = tmp_path_factory.mktemp("browser") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    register_team(archive)
    # The work order the browser's claim names (a claim must name one the archive holds), in
    # October so that November's volume holds the claim alone.
    order = work_order("WO-B1", business_date="2026-10-30", vin=OTHER_VIN, mileage_km=23456)
    commands.file_document(archive, "work_order", order, "admin")
    for username in ("admin", "li", "zhou", "sun", "auditor"):
        commands.set_password(archive, username, PASSWORD, "admin")
    port = free_port()
    config = uvicorn.Config(create_app(archive), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the web server did not start"
    yield f"http://127.0.0.1:{port}", archive
    uv.should_exit = True
    thread.join(timeout=10)
    archive.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # No skip: a machine without Playwright or Chromium fails here (scripts/setup.sh installs them).
    assert Path(CHROMIUM).exists(), "Chromium missing: run scripts/setup.sh"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


def log_in(browser: object, base: str, username: str) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{base}/")
    return page


def start_work_order(page: object, base: str, number: str) -> None:
    """Open the work-order form and type one in, as a service advisor would, without sending it
    (a customer name with markup in it, and two lines of fault description)."""
    page.goto(f"{base}/file/work_order")  # type: ignore[attr-defined]
    for field, value in {
        "number": number,
        "business_date": "2026-11-03",
        "vin": VALID_VIN,
        "plate": "京A12345",
        "model": "大众朗逸",
        "mileage_km": "12345",
        "customer_name": "张<b>三</b>",
        "customer_phone": "13800138000",
        "fault_description": "制动异响\n刹车片磨损",
    }.items():
        page.fill(f"#f-{field}", value)  # type: ignore[attr-defined]
    page.select_option("#f-service_advisor", "wang")  # type: ignore[attr-defined]


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_a_warranty_claim_from_filing_to_search(
    server: tuple[str, Archive], browser: object, tmp_path: Path
) -> None:
    base, archive = server
    clerk = log_in(browser, base, "admin")
    shot(clerk, "dashboard")

    # File a claim with a wrong VIN check digit: the error shows by the field, nothing is saved.
    clerk.goto(f"{base}/file/warranty_claim")
    clerk.fill("#f-number", "WC-B1")
    clerk.fill("#f-business_date", "2026-11-03")
    clerk.fill("#f-work_order_no", "WO-B1")
    clerk.fill("#f-vin", BAD_VIN)
    clerk.fill("#f-mileage_km", "23456")
    clerk.check("input[name=technicians][value=li]")
    clerk.fill("#f-fault_description", "行驶中变速箱换挡顿挫，仪表故障灯亮")
    clerk.fill("#f-handling_process", "读取故障码，更换机电单元并匹配")
    clerk.fill("#f-service_fee", "860")
    clerk.fill("input[name='parts[1][part_no]']", "0AM927769D")
    clerk.fill("input[name='parts[1][qty]']", "1")
    clerk.click("button:has-text('＋ 添加一行')")
    clerk.fill("input[name='parts[2][part_no]']", "G052182A2")
    clerk.fill("input[name='parts[2][qty]']", "2")
    clerk.click("button:has-text('存档')")
    vin_error = clerk.locator("[data-field=vin] .field-error")
    assert "校验位" in vin_error.inner_text()
    shot(clerk, "filing-form-error")
    with pytest.raises(NotFound):
        queries.show(archive, "warranty_claim", "WC-B1")
    assert clerk.input_value("#f-fault_description").startswith("行驶中变速箱")

    clerk.fill("#f-vin", OTHER_VIN)
    clerk.click("button:has-text('存档')")
    clerk.wait_for_url(f"{base}/d/warranty_claim/WC-B1?filed=1")
    scan = Path(archive.settings.home) / "slip.pdf"
    scan.write_bytes(pdf_bytes("WC-B1"))
    clerk.set_input_files("input[name=scan]", str(scan))
    clerk.fill("input[name=label]", "已签字纸质三包单")
    clerk.click("button:has-text('上传扫描件')")
    clerk.wait_for_url("**/d/warranty_claim/WC-B1?done=1")

    # Two more people sign, each in his own session and role.
    for username, role in (("li", "technician"), ("zhou", "claims_clerk")):
        other = log_in(browser, base, username)
        other.goto(f"{base}/d/warranty_claim/WC-B1")
        other.click(f"button[data-sign={role}]")
        other.wait_for_url("**/d/warranty_claim/WC-B1?signed=1")
        other.context.close()

    # The customer signs on the pad with the mouse.
    clerk.goto(f"{base}/d/warranty_claim/WC-B1")
    pad = clerk.locator("canvas.signature-pad")
    box = pad.bounding_box()
    clerk.mouse.move(box["x"] + 20, box["y"] + 80)
    clerk.mouse.down()
    for step in range(1, 12):
        clerk.mouse.move(box["x"] + 20 + step * 25, box["y"] + 80 + (18 if step % 2 else -18))
    clerk.mouse.up()
    clerk.click("button:has-text('确认客户签名')")
    clerk.wait_for_url("**/d/warranty_claim/WC-B1?signed=1")
    shot(clerk, "document")
    view = queries.show(archive, "warranty_claim", "WC-B1")
    assert {s["role"] for s in view["signatures"] if s["current"]} == {
        "technician",
        "claims_clerk",
        "customer",
    }
    assert view["missing_roles"] == ["service_manager"]

    # Find it by a Chinese word of its fault description, and by the VIN's last six.
    clerk.goto(f"{base}/search")
    clerk.fill("input[name=q]", "顿挫")
    clerk.click("button:has-text('搜索')")
    assert clerk.locator(".hits li:has-text('WC-B1')").count() == 1
    assert clerk.locator(".hits b.match").first.inner_text() == "顿挫"
    shot(clerk, "search")
    clerk.fill("input[name=q]", OTHER_VIN[-6:])
    clerk.click("button:has-text('搜索')")
    assert clerk.locator(".hits li:has-text('WC-B1')").count() == 1
    clerk.goto(f"{base}/vehicles?vin={OTHER_VIN}")
    shot(clerk, "vehicle")

    # The manager signs; the claim goes to the service centre (only once every signature is
    # there); then the manager seals the month.
    manager = log_in(browser, base, "sun")
    manager.goto(f"{base}/d/warranty_claim/WC-B1")
    manager.click("button[data-sign=service_manager]")
    manager.wait_for_url("**/d/warranty_claim/WC-B1?signed=1")
    clerk.goto(f"{base}/d/warranty_claim/WC-B1")
    clerk.fill("input[name=claim_no]", "SVW-2026-11-0001")
    clerk.click("button:has-text('登记上报')")
    clerk.wait_for_url("**/d/warranty_claim/WC-B1?done=1")
    clerk.context.close()
    manager.goto(f"{base}/months/2026-11")
    manager.click("button:has-text('封存 2026-11')")
    manager.wait_for_url(f"{base}/months/2026-11?sealed=1")
    assert "1 份" in manager.locator(".volume").first.inner_text()
    manager.click("button[data-binding=return]")
    link = manager.locator("[data-job-link]")
    link.wait_for(state="visible", timeout=120_000)
    shot(manager, "month")
    with manager.expect_download() as download:
        link.click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert any("WC-B1" in (page.extract_text() or "") for page in reader.pages)
    manager.context.close()

    # An auditor checks the downloaded bundle on the verify page.
    auditor = log_in(browser, base, "auditor")
    auditor.goto(f"{base}/verify-bundle")
    saved = tmp_path / "2026-11-return.pdf"
    saved.write_bytes(pdf)  # the browser's own download went with the manager's session
    auditor.set_input_files("input[name=bundle]", str(saved))
    auditor.click("button:has-text('核验')")
    verdict = auditor.locator("[data-verdict]")
    verdict.wait_for(timeout=60_000)
    assert verdict.get_attribute("data-verdict") == "intact"
    assert "核验通过" in verdict.inner_text()
    shot(auditor, "verify")
    auditor.context.close()
