"""The counter's daily friction (issue 17): what a clerk, an advisor and an auditor meet on the
pages and on the command line, through the ASGI app and the real CLI on a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.config import Settings
from archive.errors import ArchiveError
from archive.kinds.registry import REPAIR_TYPES
from tests.support import (
    FakeClock,
    event_count,
    file_claim,
    register_team,
    sign_and_scan_claim,
    work_order,
)
from tests.webclient import WebClient
from web.app import create_app
from web.pages import overview

PASSWORD = "counter-pass-1"


@pytest.fixture
def desk(tmp_path) -> Iterator[Archive]:
    """The small team on a real SQLite file, everyone with a password."""
    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    register_team(archive)
    for username in ("admin", "clerk2", "wang", "auditor", "sun"):
        commands.set_password(archive, username, PASSWORD, "admin")
    try:
        yield archive
    finally:
        archive.close()


@pytest.fixture
def web(desk: Archive) -> Iterator[WebClient]:
    client = WebClient(create_app(desk, follow_log=False))
    try:
        yield client
    finally:
        client.close()


def as_user(web: WebClient, username: str) -> WebClient:
    """A second browser on the same app, signed in as ``username``."""
    other = WebClient(web.app, owns_app=False)
    other.login(username, PASSWORD)
    return other


def file_work_orders(archive: Archive, count: int, day: str = "2026-10-01") -> None:
    for n in range(1, count + 1):
        commands.file_document(
            archive, "work_order", work_order(f"WO-{n:04d}", business_date=day), "admin"
        )


# -- 1. every dashboard list leads to all of its entries ---------------------------------------


def test_the_dashboard_links_to_each_whole_list_and_the_list_is_paged(
    web: WebClient, desk: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_work_orders(desk, 40)
    web.login("wang", PASSWORD)
    page = web.get("/").text
    assert page.count('href="/d/work_order/') == overview.SHOWN
    link = re.search(r'<a class="more" href="(/todo/waiting)"[^>]*>([^<]+)</a>', page)
    assert link and "还有 25 份" in link[2]
    full = web.get(link[1])
    assert full.status_code == 200
    numbers = re.findall(r'href="/d/work_order/(WO-\d+)"', full.text)
    assert sorted(numbers) == [f"WO-{n:04d}" for n in range(1, 41)]
    # A long list comes a page at a time.
    monkeypatch.setattr(overview, "PAGE_SIZE", 15)
    third = web.get("/todo/waiting?page=3").text
    assert len(re.findall(r'href="/d/work_order/', third)) == 10 and "第 3 / 3 页" in third
    assert 'href="/todo/waiting?page=2">上一页' in third


def test_overdue_callbacks_are_all_reachable_from_the_clerks_dashboard(
    web: WebClient, desk: Archive
) -> None:
    file_work_orders(desk, 20)
    web.login("admin", PASSWORD)
    page = web.get("/").text
    assert re.search(r'href="/todo/callbacks"[^>]*>还有 5 份', page)
    full = web.get("/todo/callbacks").text
    assert full.count("应于 2026-10-04 前回访") == 20
    # Signatures owed, by the person who owes them: each person's whole list.
    owed = web.get("/todo/missing?owner=wang").text
    assert len(re.findall(r'href="/d/work_order/', owed)) == 20 and "王强" in owed


def test_a_list_the_person_does_not_have_is_not_found_in_chinese(web: WebClient) -> None:
    web.login("wang", PASSWORD)  # an advisor has no claims to submit
    for section in ("claims", "nonsense"):
        answer = web.get(f"/todo/{section}")
        assert answer.status_code == 404 and "没有这个清单" in answer.text


# -- 2. the month page says each open item's date ----------------------------------------------


def test_the_month_page_shows_the_date_of_each_open_item(web: WebClient, desk: Archive) -> None:
    file_work_orders(desk, 1, day="2026-11-02")
    web.login("admin", PASSWORD)
    page = web.get("/months/2026-11").text
    row = re.search(r"<tr><td><a href=\"/d/work_order/WO-0001\">.*?</tr>", page, re.S)
    assert row and "<td>2026-11-02</td>" in row[0]


# -- 3. filing is offered only to those who may file --------------------------------------------


def test_the_auditor_is_not_offered_filing(web: WebClient) -> None:
    web.login("auditor", PASSWORD)
    for url in ("/", "/search", "/months/2026-11"):
        assert 'href="/file"' not in web.get(url).text, url
    clerk = as_user(web, "clerk2")
    try:
        assert 'href="/file"' in clerk.get("/").text
    finally:
        clerk.close()


# -- 4. refused when the form is opened, not after it is filled in ------------------------------


def test_an_unregistered_clerk_is_told_when_opening_the_claim_form(web: WebClient) -> None:
    web.login("clerk2", PASSWORD)  # a clerk without a 备案号
    assert 'href="/file/warranty_claim"' not in web.get("/file").text
    answer = web.get("/file/warranty_claim")
    assert answer.status_code == 403
    assert "尚未在服务中心备案" in answer.text and 'name="vin"' not in answer.text
    assert web.get("/file/work_order").status_code == 200  # what she may file opens as before


def test_the_auditor_cannot_open_a_filing_or_amending_form(web: WebClient, desk: Archive) -> None:
    file_work_orders(desk, 1)
    web.login("auditor", PASSWORD)
    before = event_count(desk)
    for url in ("/file/work_order", "/d/work_order/WO-0001/amend"):
        answer = web.get(url)
        assert answer.status_code == 403 and "没有权限" in answer.text, url
    assert event_count(desk) == before


# -- 5. 类别 of the daily report is chosen from the list -----------------------------------------


def test_the_daily_report_category_is_a_choice_and_stored_values_show_again(
    web: WebClient, desk: Archive
) -> None:
    web.login("admin", PASSWORD)
    form = web.get("/file/daily_report").text
    cell = re.search(r'<select name="lines\[1\]\[repair_type\]".*?</select>', form, re.S)
    assert cell, "类别 should be a list to choose from"
    assert re.findall(r'<option value="(\w+)"', cell[0]) == [c for c, _ in REPAIR_TYPES]
    lines = [{"work_order_no": "WO-1", "repair_type": "首保", "amount": "300"}]
    paid = [{"description": "首保", "amount": "300"}]
    order = work_order("WO-1", repair_type="首保", labour_lines=paid, parts_lines=None)
    commands.file_document(desk, "work_order", order, "admin")  # a report's line names it
    commands.file_document(
        desk, "daily_report", {"number": "RB1", "business_date": "2026-11-03", "lines": lines},
        "admin",
    )  # fmt: skip
    amend = web.get("/d/daily_report/RB1/amend").text
    assert re.search(r'<option value="first_service" selected>首保</option>', amend)
    assert "首保" in web.get("/d/daily_report/RB1").text


# -- 6. `archive bundle` and `archive print` take --staff like every other command --------------


@pytest.fixture
def cli(tmp_path):
    from typer.testing import CliRunner

    from archive.cli import app

    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(tmp_path / "cli-home"), "ARCHIVE_STAFF": ""}

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    archive = open_archive(Settings(home=tmp_path / "cli-home"))
    try:
        register_team(archive)
        file_work_orders(archive, 1, day="2026-10-02")
        commands.seal_month(archive, "2026-10", "sun", force_reason="待客户补签")
    finally:
        archive.close()
    return invoke


def test_bundle_and_print_accept_staff_and_refuse_a_stranger(cli, tmp_path) -> None:
    out = tmp_path / "full.pdf"
    made = cli("bundle", "2026-10", "-o", str(out), "--staff", "sun")
    assert made.exit_code == 0, made.output
    assert out.read_bytes().startswith(b"%PDF")
    stranger = cli("bundle", "2026-10", "-o", str(tmp_path / "x.pdf"), "--staff", "nobody")
    assert stranger.exit_code == 1 and "没有用户名为“nobody”的员工" in stranger.output
    assert not (tmp_path / "x.pdf").exists()
    single = str(tmp_path / "p.pdf")
    printed = cli("print", "work_order", "WO-0001", "-o", single, "--staff", "wang")
    assert printed.exit_code == 0, printed.output


# -- 8. the archive's key by the dealer's name and a fingerprint --------------------------------


def test_the_verify_page_names_the_dealer_and_the_key_fingerprint(
    web: WebClient, desk: Archive
) -> None:
    from archive.integrity import ensure_key
    from archive.integrity.key_label import fingerprint

    key = ensure_key(desk.settings)
    web.login("auditor", PASSWORD)
    page = web.get("/verify-bundle").text
    assert re.search(r"<strong data-dealer>示例汽车销售服务有限公司</strong>", page)
    shown = re.search(r"data-fingerprint>([0-9A-F ]+)<", page)
    assert shown and shown[1] == fingerprint(key.public_key)
    assert re.fullmatch(r"[0-9A-F]{4}( [0-9A-F]{4}){3}", shown[1])
    assert "xn--" not in page.split("公钥全文")[0]  # only in the key's full text, for tools


def test_the_cli_names_the_dealer_and_the_fingerprint(cli, tmp_path) -> None:
    init = cli("init")
    assert init.exit_code == 0 and "签名密钥：示例汽车销售服务有限公司（指纹 " in init.output
    assert "xn--" not in init.output
    out = tmp_path / "full.pdf"
    assert cli("bundle", "2026-10", "-o", str(out)).exit_code == 0
    vkey = tmp_path / "cli-home" / "keys" / "checkpoint.vkey"
    checked = cli("verify-bundle", str(out), "--key", str(vkey))
    assert checked.exit_code == 0, checked.output
    assert "检查点 / checkpoint: 示例汽车销售服务有限公司" in checked.output
    assert "公钥 / key: 示例汽车销售服务有限公司  指纹 fingerprint " in checked.output
    assert "xn--" not in checked.output


# -- 7. `archive permissions` says everything in Chinese, each role once -------------------------


def test_the_permission_table_is_chinese_and_names_each_role_once(cli) -> None:
    table = cli("permissions")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert "作废快速处理表：信息员、服务经理" in lines
    assert "签字 / 拒签：以本人所持的角色签字或拒签；单据写明了该角色的人时，只能由其本人签" in (
        lines
    )
    assert lines[-2:] == ["代维修技师签字：维修组长", "代服务顾问签字：服务经理"]
    for line in lines:
        roles = line.split("：", 1)[1].split("（")[0].split("、")
        assert len(roles) == len(set(roles)), line
        assert not re.search(r"[a-z]{3,}", line), line  # no English left in it


# -- 9. moments on the dealership's clock, not in UTC -------------------------------------------

LATE_EVENING_UTC = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)  # 2026-11-03 04:00 in Beijing


def test_pages_show_moments_on_the_dealerships_clock(web: WebClient, desk: Archive) -> None:
    desk.clock.now = LATE_EVENING_UTC
    order = {
        "number": "FW-01", "business_date": "2026-11-03", "place": "服务区",
        "technicians": "li", "handheld_terminal_id": "SC-03",
    }  # fmt: skip
    commands.file_document(desk, "offsite_service", order, "admin")
    commands.sign_document(desk, "offsite_service", "FW-01", "clerk", "admin")
    commands.depart(desk, "FW-01", "admin", None, None)
    settled = "2026-11-03T23:30:00+00:00"  # typed with its zone through the API
    commands.file_document(desk, "work_order", work_order(settled_at=settled), "admin")
    web.login("admin", PASSWORD)
    assert "2026-11-03 04:00 出发" in web.get("/").text
    assert "2026-11-03 04:00" in web.get("/todo/offsite").text
    assert "2026-11-04 07:30" in web.get("/d/work_order/WO-0001").text


def test_a_second_submission_is_refused_without_a_utc_date(desk: Archive) -> None:
    desk.clock.now = LATE_EVENING_UTC
    file_claim(desk)
    sign_and_scan_claim(desk)
    commands.submit_claim(desk, "warranty_claim", "WC-0001", "SC-2026-1", "admin")
    with pytest.raises(ArchiveError) as refused:
        commands.submit_claim(desk, "warranty_claim", "WC-0001", "SC-2026-2", "admin")
    assert refused.value.code == "already_submitted"
    assert "2026-11-02" not in refused.value.message_zh and "SC-2026-1" in refused.value.message_zh


# -- 11. demo scans read in Chinese, like the paper they stand for ------------------------------


def test_demo_scans_are_chinese_paper_slips() -> None:
    import io

    from pypdf import PdfReader

    from archive.demo import DemoSpec, generate
    from archive.demo.media import SCAN_SCALE, scan_pdf
    from archive.demo.ops import AttachScan
    from archive.kinds.registry import get_kind

    plan = generate(DemoSpec(month="2026-10", work_orders=40))
    scans = [op for op in plan.operations if isinstance(op, AttachScan)]
    for op in scans:  # the form's title and number, as on the paper
        kind = get_kind(op.kind)
        assert op.text[:2] == (kind.label, f"{kind.number_label}：{op.number}")
    order = next(op for op in scans if op.kind == "first_service_voucher")
    customer, day = order.text[2:4]
    assert customer.startswith("客户：") and day.startswith("日期：2026-10-")
    assert not any(re.search(r"[A-Za-z]{4,}", line) for op in scans for line in op.text[2:])
    pdf = scan_pdf(list(order.text), subject=f"{order.kind} {order.number}")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "首保凭证" and b"/Font" not in pdf  # drawn, not typeset
    image = reader.pages[0]["/Resources"]["/XObject"]["/Scan"].get_object()
    width = image["/Width"]
    pixels = image.get_data()  # 1 bit a pixel, 0 = black
    row = (width + 7) // 8
    title_rows = pixels[85 * SCAN_SCALE * row : 115 * SCAN_SCALE * row]
    assert any(byte != 0xFF for byte in title_rows)  # the title is there, in ink


# -- 10. a long bundle check shows how far it got ------------------------------------------------


def test_the_bundle_check_reports_progress_page_by_page(desk: Archive) -> None:
    from archive.bundle.check import check_bundle
    from archive.bundle.pipeline import print_document
    from archive.integrity import load_verifier

    file_work_orders(desk, 1)
    printed = print_document(desk, "work_order", "WO-0001")
    seen: list[tuple[str, int, int]] = []
    report = check_bundle(
        printed.pdf, load_verifier(desk.settings), lambda *step: seen.append(step)
    )
    assert report.intact and report.pages == printed.pages
    pages = [step for step in seen if step[0] == "pages"]
    assert pages[0] == ("pages", 0, report.pages)
    assert pages[-1] == ("pages", report.pages, report.pages)
    assert len(pages) == report.pages + 1  # one step a page


def test_the_verify_page_follows_a_long_check_and_shows_its_report(
    web: WebClient, desk: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from archive.bundle.pipeline import print_document
    from web.pages import verify as verify_page

    file_work_orders(desk, 1)
    printed = print_document(desk, "work_order", "WO-0001").pdf
    web.login("auditor", PASSWORD)
    monkeypatch.setattr(verify_page, "QUICK_SECONDS", 0.0)  # as if the bundle were long
    gate = threading.Event()
    real_work = verify_page._work

    def slow_work(archive, key):  # the real check, held after its first pages
        work = real_work(archive, key)

        def held(stream, progress):
            progress("pages", 5, 10)
            gate.wait(30)
            return work(stream, progress)

        return held

    monkeypatch.setattr(verify_page, "_work", slow_work)
    token = web.csrf("/verify-bundle")
    sent = web.post(
        "/verify-bundle",
        data={"csrf_token": token},
        files={"bundle": ("2026-10-全卷.pdf", printed, "application/pdf")},
    )
    assert sent.status_code == 303
    follow = sent.headers["location"]
    job_id = follow.split("job=")[1]
    status = web.get(f"/jobs/{job_id}").json()
    assert status["state"] == "running" and status["stage"] == "逐页读取"
    assert (status["done"], status["total"]) == (5, 10)
    running = web.get(follow).text
    assert "正在核验 2026-10-全卷.pdf" in running and "逐页读取 5 / 10" in running
    assert f'data-job="{job_id}"' in running and "/static/app.js" in running
    gate.set()
    app_jobs = web.app.state.bundle_jobs
    assert app_jobs.jobs[job_id].finished.wait(30)
    assert web.get(f"/jobs/{job_id}").json()["url"] == follow
    done = web.get(follow).text
    assert 'data-verdict="intact"' in done and "2026-10-全卷.pdf 核验通过" in done
    # The report is the uploader's: another person gets a clear "not found".
    other = as_user(web, "wang")
    try:
        answer = other.get(follow)
        assert answer.status_code == 404 and "没有这个核验任务" in answer.text
    finally:
        other.close()


def test_the_amend_form_shows_a_moment_on_the_dealerships_clock(
    web: WebClient, desk: Archive
) -> None:
    settled = "2026-11-03T23:30:00+00:00"  # typed with its zone through the API
    commands.file_document(desk, "work_order", work_order(settled_at=settled), "admin")
    web.login("admin", PASSWORD)
    form = web.get("/d/work_order/WO-0001/amend").text
    assert 'name="settled_at" type="datetime-local" value="2026-11-04T07:30"' in form
    assert "2026-11-03T23:30" not in form  # which would be read back 8 hours late


def test_only_the_last_checks_are_kept(desk: Archive) -> None:
    import io

    from web.jobs import KEPT_CHECKS, BundleJobs

    jobs = BundleJobs(desk)
    try:
        started = []
        for n in range(KEPT_CHECKS + 5):
            job = jobs.check(io.BytesIO(b"%PDF"), "auditor", f"{n}.pdf", lambda s, p: {}, {})
            assert job.finished.wait(10)
            started.append(job.id)
        assert [k for k in jobs.jobs] == started[-KEPT_CHECKS:]
        assert jobs.check_of(started[-1], "auditor") and not jobs.check_of(started[-1], "wang")
    finally:
        jobs.close()
