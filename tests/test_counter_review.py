"""What the reviewer of issue 17 met at the counter: worklists that show what their dashboard row
counts, the staff page confirming an action, a deactivated person owing signatures, the whole
off-site trip on the document page, and lists the clerk can work from (ASGI app)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive
from archive.cli import app as cli
from tests.support import PASSWORD, file_claim, work_order
from tests.webclient import WebClient


def offsite(number: str, **overrides: object) -> dict[str, object]:
    order = {
        "number": number, "business_date": "2026-11-03", "place": "服务区",
        "technicians": "li", "handheld_terminal_id": "SC-03",
    }  # fmt: skip
    return {**order, **overrides}


def owed_rows(page: str) -> list[tuple[str, int, str | None]]:
    """The dashboard's 缺签 rows: (who, how many, the link to all of them if there is one)."""
    section = re.search(r"<h2>缺签（按欠签人）</h2>(.*?)</section>", page, re.S)
    assert section
    rows = []
    for item in re.findall(r"<li><strong>(.*?)</li>", section[1], re.S):
        who = item.split("</strong>")[0]
        count = int(re.search(r"(\d+) 份：", item)[1])  # type: ignore[index]
        link = re.search(r'class="more" href="([^"]+)"', item)
        rows.append((who, count, link[1].replace("&amp;", "&") if link else None))
    return rows


def listed(page: str) -> int:
    return len(re.findall(r'<td><a href="/d/', page))


# -- 1. each "全部 N 份" link shows those N --------------------------------------------------


def test_each_owed_row_links_to_exactly_what_it_counts(web: WebClient, team: Archive) -> None:
    # Five off-site orders owe "any clerk" (and li as technician); six work orders owe wang, li
    # and the customer: "任一信息员" is the owner "" that a bare ?owner= could not tell apart.
    for n in range(1, 6):
        commands.file_document(team, "offsite_service", offsite(f"FW-{n:02d}"), "admin")
    for n in range(1, 7):
        commands.file_document(team, "work_order", work_order(f"WO-{n:04d}"), "admin")
    web.login("admin", PASSWORD)
    rows = owed_rows(web.get("/").text)
    assert ("任一信息员", 5) in [(who, count) for who, count, _ in rows]
    total = sum(count for _, count, _ in rows)
    assert total > 5
    for who, count, link in rows:
        assert link, who  # every group here has more than the four named on the dashboard
        page = web.get(link)
        assert page.status_code == 200
        assert listed(page.text) == count, (who, link)
        assert f"· {who}</span>" in page.text
    # No owner is the whole list; the old empty owner is no filter either.
    assert listed(web.get("/todo/missing").text) == total
    assert listed(web.get("/todo/missing?owner=").text) == total


# -- 2. the staff page confirms what was done -------------------------------------------------


def _post(web: WebClient, url: str, **fields: str):  # type: ignore[no-untyped-def]
    return web.post(url, data={"csrf_token": web.csrf("/staff"), **fields})


def test_the_staff_page_confirms_each_action_in_its_own_words(web: WebClient) -> None:
    web.login("admin", PASSWORD)
    for url, fields, said in (
        ("/staff/li/deactivate", {"reason": "离职"}, "已停用 李师傅（li）"),
        ("/staff/li/reactivate", {"reason": "返岗"}, "已恢复 李师傅（li）在职"),
        ("/staff/li/roles", {"roles": "technician"}, "已更新 李师傅（li）的角色"),
        ("/staff/li/password", {"password": "another secret 9"}, "已设置 李师傅（li）的密码"),
    ):
        done = _post(web, url, **fields)
        assert done.status_code == 303, url
        page = web.get(done.headers["location"]).text
        notice = re.search(r'<p class="notice" role="status">(.*?)</p>', page)
        assert notice and said in notice[1], (url, notice)


def test_the_staff_page_says_only_its_own_messages(web: WebClient) -> None:
    web.login("admin", PASSWORD)
    for query in ("done=已恢复", "done=<script>x</script>", "done=reactivated&who=nobody.here"):
        page = web.get(f"/staff?{query}").text
        assert "<script>x" not in page
        notice = re.search(r'<p class="notice" role="status">(.*?)</p>', page)
        if "reactivated" in query:  # a known code; an unknown person is not named
            assert notice and notice[1] == "已恢复在职。"
        else:
            assert notice is None, query


# -- 3. a deactivated person who still owes signatures is marked --------------------------------


def test_a_deactivated_owner_is_marked_on_the_dashboard_and_his_list(
    web: WebClient, team: Archive
) -> None:
    for n in range(1, 6):
        commands.file_document(team, "work_order", work_order(f"WO-{n:04d}"), "admin")
    commands.deactivate_staff(team, "wang", "离职", "admin")
    web.login("admin", PASSWORD)
    page = web.get("/").text
    row = re.search(r"<li><strong>王强</strong>(.*?)</li>", page, re.S)
    assert row and "已停用" in row[1]
    other = re.search(r"<li><strong>李师傅</strong>(.*?)</li>", page, re.S)
    assert other and "已停用" not in other[1]
    assert "已停用" in web.get("/todo/missing?owner=wang").text
    assert "已停用" not in web.get("/todo/missing?owner=li").text
    # The API and `archive todo` say it too.
    token = commands.issue_token(team, "admin", "todo", "admin")[1]
    groups = web.get("/api/v1/worklist", headers={"Authorization": f"Bearer {token}"}).json()
    marked = {g["owner"]: g["inactive"] for g in groups["missing_signatures"]}
    assert marked["wang"] is True and marked["li"] is False
    env = {"ARCHIVE_HOME": str(team.settings.home)}
    if team.settings.database_url:
        env["ARCHIVE_DATABASE_URL"] = team.settings.database_url
    shown = CliRunner().invoke(cli, ["todo", "--staff", "admin"], env=env)
    assert "王强（已停用" in shown.output and "李师傅（已停用" not in shown.output


# -- 4. the document page shows the whole trip, as `archive show` does ---------------------------


def test_the_document_page_shows_both_odometer_readings(web: WebClient, team: Archive) -> None:
    commands.file_document(team, "offsite_service", offsite("FW-01"), "admin")
    commands.sign_document(team, "offsite_service", "FW-01", "clerk", "admin")
    commands.depart(team, "FW-01", "admin", None, 12000)
    commands.return_trip(team, "FW-01", "admin", 86, 72, 12072)
    web.login("admin", PASSWORD)
    page = web.get("/d/offsite_service/FW-01").text
    departed = re.search(r'<p data-trip="departure">(.*?)</p>', page, re.S)
    back = re.search(r'<p data-trip="return">(.*?)</p>', page, re.S)
    assert departed and "手持机 SC-03" in departed[1] and "出发里程表 12000 km" in departed[1]
    assert back and "申报 86 km，核实 72 km，返回里程表 12072 km" in back[1]
    assert "相差 14 km" in back[1]
    # The history says it too, where the trip was recorded.
    history = page.split("<h2>变更历史</h2>")[1]
    assert "返回里程表 12072 km" in history and "出发里程表 12000 km" in history


# -- 5. lists the clerk can work from --------------------------------------------------------


def test_a_count_of_nothing_is_not_a_red_alarm(web: WebClient, team: Archive) -> None:
    commands.set_password(team, "sun", PASSWORD, "admin")
    web.login("sun", PASSWORD)  # the manager: no refusals
    page = web.get("/").text
    assert re.search(r"<h2>拒签<span class=\"count zero\">0</span>", page)
    assert 'class="count bad">0<' not in page
    file_claim(team)
    commands.refuse_signature(team, "warranty_claim", "WC-0001", "claims_clerk", "旧件不符", "zhou")
    assert re.search(r"<h2>拒签<span class=\"count bad\">1</span>", web.get("/").text)


def test_callbacks_show_whom_to_call_and_waiting_shows_whose_document(
    web: WebClient, team: Archive
) -> None:
    # Repaired on 31 October: the callback is due today (3 November).
    commands.file_document(team, "work_order", work_order(business_date="2026-10-31"), "admin")
    web.login("admin", PASSWORD)
    row = re.search(r"<tr><td[^>]*>1</td>(.*?)</tr>", web.get("/todo/callbacks").text, re.S)
    assert row and "张三" in row[1] and "13800138000" in row[1] and "京A12345" in row[1]
    web.login("wang", PASSWORD)
    row = re.search(r"<tr><td[^>]*>1</td>(.*?)</tr>", web.get("/todo/waiting").text, re.S)
    assert row and "维修委托书 WO-0001" in row[1] and "张三" in row[1] and "服务顾问" in row[1]


def test_the_months_table_by_kind_has_the_whole_row(web: WebClient, team: Archive) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    web.login("admin", PASSWORD)
    page = web.get("/months/2026-11").text
    assert re.search(r'<section class="card wide">\s*<h2>本月单据', page)
    assert '<th class="num">份数</th>' in page
    css = web.get("/static/app.css").text
    assert ".card.wide { grid-column: 1 / -1; }" in css
    assert re.search(r"th\.num, td\.num \{[^}]*white-space: nowrap", css)


def test_a_worklists_file_from_before_the_phone_column_is_made_again(tmp_path) -> None:
    """An archive whose worklists table has the columns of shape 2 (no phone, no plate): on
    opening, the table is made again with the new columns and followed from the log; emptying
    it was not enough (``CREATE TABLE IF NOT EXISTS`` kept the old columns, every update
    failed and the lists stood still)."""
    import sqlite3

    from archive.bootstrap import open_archive
    from archive.config import Settings
    from tests.support import FakeClock, register_team
    from web.app import create_app

    settings = Settings(home=tmp_path / "home")
    archive = open_archive(settings, clock=FakeClock())
    register_team(archive)
    commands.set_password(archive, "admin", PASSWORD, "admin")
    commands.file_document(archive, "work_order", work_order(business_date="2026-10-31"), "admin")
    client = WebClient(create_app(archive, follow_log=False))
    try:
        client.get("/login")  # the read models are opened (and followed) once
    finally:
        client.close()
    archive.close()
    with sqlite3.connect(settings.home / "projections.db") as db:  # as shape 2 left it
        db.execute("DROP TABLE wl_docs")
        db.execute(
            "CREATE TABLE wl_docs (doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " number TEXT NOT NULL, business_date TEXT, filed_date TEXT, status TEXT NOT NULL,"
            " voided INTEGER NOT NULL, submitted INTEGER NOT NULL, work_order_no TEXT,"
            " outcome TEXT, delivery_date TEXT, repair_type TEXT,"
            " return_repair INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,"
            " customer_name TEXT, departed_at TEXT, returned_at TEXT, mileage_difference INTEGER)"
        )
        db.execute("UPDATE projection_shapes SET shape = 2 WHERE name = 'worklists'")
    archive = open_archive(settings, clock=FakeClock())
    client = WebClient(create_app(archive, follow_log=False))
    try:
        client.login("admin", PASSWORD)
        page = client.get("/todo/callbacks").text
        assert "13800138000" in page and "京A12345" in page
    finally:
        client.close()
        archive.close()
