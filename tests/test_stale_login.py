"""A form sent when nobody is logged in any more (the session ran out, or someone logged out on
the counter PC): the expired-form page offers a login that carries what was typed, and after
it the same page again with the button to send it as the person now logged in. Through the
ASGI app, on SQLite and PostgreSQL; and once in Chromium."""

from __future__ import annotations

import html
import re

import pytest

from archive import commands, queries
from archive.bootstrap import Archive
from archive.errors import NotFound
from archive.staff.throttle import LoginThrottle
from tests.support import PASSWORD, event_count
from tests.test_browser import PASSWORD as BROWSER_PASSWORD
from tests.test_browser import (  # noqa: F401
    browser,
    log_in,
    server,
    shot,
    start_work_order,
)
from tests.webclient import WebClient

OURS = {"Origin": "http://archive.test"}  # what a browser sends with a form of our pages


def form_fields(page: str, action: str) -> dict[str, list[str]]:
    """The named inputs of the page's form posting to ``action``, as the browser sends them."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert form is not None, f"no form posting to {action}"
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)):
        fields.setdefault(html.unescape(name), []).append(html.unescape(value))
    return fields


def logged_out_with_a_stale_token(web: WebClient, username: str, page: str) -> str:
    """``username`` opens ``page``, then logs out (in another tab): the form's token is stale."""
    web.login(username, PASSWORD)
    token = web.csrf(page)
    web.post("/logout", data={"csrf_token": web.csrf("/")})
    return token


def test_a_login_on_the_expired_page_carries_the_form(web: WebClient, team: Archive) -> None:
    token = logged_out_with_a_stale_token(web, "admin", "/staff")
    typed = {
        "username": "zhang.san",
        "name": '"><script>alert(1)</script>张三',
        "roles": ["clerk", "technician"],
        "registration_no": "BA-0009",
        "csrf_token": token,
    }
    before = event_count(team)
    page = web.post("/staff", data=typed, headers=OURS)
    assert page.status_code == 403 and "现在没有人登录" in page.text
    assert "<script>alert" not in page.text  # escaped, in the table and the hidden inputs
    login = form_fields(page.text, "/login")
    assert login["carried_action"] == ["/staff"]
    assert login["carried.roles"] == ["clerk", "technician"]
    assert login["carried.name"] == ['"><script>alert(1)</script>张三']

    # 赵敏 logs in on that page: the same page again, as her, and nothing is done yet.
    login |= {"username": ["admin"], "password": [PASSWORD]}
    again = web.post("/login", data=login)
    assert again.status_code == 200 and "表单已过期" in again.text
    assert "以 赵敏 的身份重新提交" in again.text and "<script>alert" not in again.text
    assert event_count(team) == before and team.staff.get("zhang.san") is None

    resend = form_fields(again.text, "/staff")
    assert resend["csrf_token"] == [web.csrf("/")]  # her new session's token
    assert web.post("/staff", data=resend).status_code == 303  # only now, by her click
    person = team.staff.get("zhang.san")
    assert person is not None and person.roles == ("clerk", "technician")
    assert person.name == '"><script>alert(1)</script>张三'


def test_a_failed_login_keeps_the_form_and_is_throttled(web: WebClient, team: Archive) -> None:
    token = logged_out_with_a_stale_token(web, "li", "/staff")
    typed = {"csrf_token": token, "label": "DMS 接口"}
    page = web.post("/staff/li/token", data=typed, headers=OURS)
    login = form_fields(page.text, "/login") | {"username": ["li"], "password": ["guess"]}
    for _ in range(LoginThrottle.FREE_ATTEMPTS):
        wrong = web.post("/login", data=login)
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        assert form_fields(wrong.text, "/login")["carried.label"] == ["DMS 接口"]
        assert 'name="username" value="li"' in wrong.text
    login["password"] = [PASSWORD]
    waiting = web.post("/login", data=login)  # right, but too soon: the throttle holds
    assert waiting.status_code == 429 and "秒后再试" in waiting.text
    assert form_fields(waiting.text, "/login")["carried.label"] == ["DMS 接口"]
    assert "的身份重新提交" not in waiting.text


def test_passwords_are_never_carried(web: WebClient) -> None:
    token = logged_out_with_a_stale_token(web, "li", "/staff")
    typed = {"csrf_token": token, "old_password": PASSWORD, "password": "new password 2"}
    page = web.post("/staff/li/password", data=typed, headers=OURS)
    assert PASSWORD not in page.text and "new password 2" not in page.text
    login = form_fields(page.text, "/login")
    assert login["carried.old_password"] == [""] and login["carried.password"] == [""]
    # Even one put there by hand is dropped: only the field's name travels.
    login |= {"carried.password": ["smuggled"], "username": ["li"], "password": [PASSWORD]}
    again = web.post("/login", data=login)
    assert again.status_code == 200 and "smuggled" not in again.text
    assert 'type="password" name="old_password"' in again.text  # to be typed again
    assert 'type="password" name="password"' in again.text


@pytest.mark.parametrize(
    "action", ["https://evil.example/staff", "//evil.example/staff", "/\\evil.example/staff"]
)
def test_the_carried_action_is_a_path_on_this_site(web: WebClient, action: str) -> None:
    data = {"csrf_token": web.csrf(), "username": "li", "password": PASSWORD, "next": "/"}
    data |= {"carried_action": action, "carried.label": "甲"}
    answer = web.post("/login", data=data)
    assert "evil.example" not in answer.text
    assert answer.status_code == 303 and answer.headers["location"] == "/"  # a plain login


def test_a_plain_login_still_goes_where_it_was_going(web: WebClient) -> None:
    data = {"csrf_token": web.csrf(), "username": "li", "password": PASSWORD, "next": "/search"}
    answer = web.post("/login", data=data)
    assert answer.status_code == 303 and answer.headers["location"] == "/search"
    data |= {"next": "/\\evil.example", "csrf_token": web.csrf("/")}  # a browser reads /\ as //
    assert web.post("/login", data=data).headers["location"] == "/"


def test_a_stale_login_form_on_the_expired_page_keeps_the_form(web: WebClient) -> None:
    token = logged_out_with_a_stale_token(web, "li", "/staff")
    typed = {"csrf_token": token, "label": "DMS 接口"}
    page = web.post("/staff/li/token", data=typed, headers=OURS)
    login = form_fields(page.text, "/login") | {"username": ["admin"], "password": [PASSWORD]}
    other_tab = WebClient(web.app, owns_app=False)
    try:  # the anonymous token of another browser: as stale as a token gets
        login["csrf_token"] = [other_tab.csrf()]
    finally:
        other_tab.close()
    stale = web.post("/login", data=login, headers=OURS)
    assert stale.status_code == 403 and "DMS 接口" in stale.text
    assert form_fields(stale.text, "/login")["carried_action"] == ["/staff/li/token"]


def test_a_filing_form_names_the_number_as_its_kind_does(web: WebClient) -> None:
    token = logged_out_with_a_stale_token(web, "admin", "/file/work_order")
    typed = {"csrf_token": token, "number": "WO-0042", "vin": "LSVAM4188C2184825"}
    page = web.post("/file/work_order", data=typed, headers=OURS)
    assert "<td>委托书号</td>" in page.text and "<td>编号</td>" not in page.text
    login = form_fields(page.text, "/login") | {"username": ["admin"], "password": [PASSWORD]}
    again = web.post("/login", data=login)
    assert "<td>委托书号</td>" in again.text and "WO-0042" in again.text


def test_a_carried_file_is_named_and_asked_for_again(web: WebClient) -> None:
    token = logged_out_with_a_stale_token(web, "admin", "/")
    page = web.post(
        "/d/work_order/WO-1/scans",
        data={"csrf_token": token},
        files={"scan": ("单据.pdf", b"%PDF-1.4 ...", "application/pdf")},
        headers=OURS,
    )
    login = form_fields(page.text, "/login")
    assert login["carried-file.scan"] == ["单据.pdf"]  # the name only: files do not travel
    login |= {"username": ["admin"], "password": [PASSWORD]}
    again = web.post("/login", data=login)
    assert "单据.pdf" in again.text and "需要重新选择" in again.text
    assert 'type="file" name="scan"' in again.text and 'enctype="multipart/form-data"' in again.text


# Last in the file: Playwright keeps its event loop running in this thread afterwards.
@pytest.mark.browser
def test_a_clerk_logged_out_meanwhile_logs_in_and_files(server, browser) -> None:  # noqa: F811
    base, archive = server
    commands.set_password(archive, "wang", BROWSER_PASSWORD, "admin")
    advisor = log_in(browser, base, "wang")  # 王强 starts a work order...
    start_work_order(advisor, base, "WO-L1")

    other_tab = advisor.context.new_page()  # ...and in another tab, the PC is logged out
    other_tab.goto(f"{base}/")
    other_tab.click("button:has-text('退出')")
    other_tab.wait_for_url(f"{base}/login**")

    advisor.click("button:has-text('存档')")
    advisor.wait_for_selector("h1:has-text('表单已过期')")
    assert "现在没有人登录" in advisor.inner_text("main")
    assert "委托书号" in advisor.inner_text("main")
    shot(advisor, "expired-form-login")
    advisor.fill("main form[action='/login'] input[name=username]", "wang")
    advisor.fill("main form[action='/login'] input[name=password]", BROWSER_PASSWORD)
    advisor.click("main form[action='/login'] button:has-text('登录')")
    advisor.wait_for_selector("button:has-text('以 王强 的身份重新提交')")
    text = advisor.inner_text("main")
    assert "张<b>三</b>" in text and "制动异响" in text
    shot(advisor, "expired-form-logged-in")
    with pytest.raises(NotFound):
        queries.show(archive, "work_order", "WO-L1")  # not until he confirms

    advisor.click("button:has-text('以 王强 的身份重新提交')")
    advisor.wait_for_url(f"{base}/d/work_order/WO-L1**")
    history = queries.history(archive, "work_order", "WO-L1")
    assert history[0]["actor"] == "wang"
    assert queries.show(archive, "work_order", "WO-L1")["fields"]["fault_description"] == (
        "制动异响\n刹车片磨损"
    )
