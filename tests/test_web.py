"""Login, sessions, CSRF and tokens through the ASGI app, on each store."""

from __future__ import annotations

from archive import commands
from archive.bootstrap import Archive
from tests.support import PASSWORD
from tests.webclient import WebClient
from web.security import SESSION_COOKIE


def test_pages_need_a_login_and_speak_chinese(web: WebClient, team: Archive) -> None:
    first = web.get("/")
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
    page = web.get("/login")
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    assert web.login("admin", PASSWORD).status_code == 303
    home = web.get("/")
    assert home.status_code == 200
    assert "工作台" in home.text and "赵敏" in home.text and "三包索赔单" in home.text
    health = web.get("/healthz").json()
    assert health["events"] == team.app.head()


def test_session_cookie_is_signed_httponly_and_samesite(web: WebClient) -> None:
    response = web.login("admin", PASSWORD)
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    forged = web.client.cookies.get(SESSION_COOKIE).replace("a", "b", 1) + "x"
    web.client.cookies.set(SESSION_COOKIE, forged)
    assert web.get("/").status_code == 303  # a tampered cookie is no session


def test_wrong_password_and_deactivated_staff_cannot_log_in(web: WebClient, team: Archive) -> None:
    refused = web.login("admin", "wrong password")
    assert refused.status_code == 401
    assert "用户名或密码错误" in refused.text
    assert web.login("nobody", PASSWORD).status_code == 401
    assert web.login("li", PASSWORD).status_code == 303
    assert web.get("/").status_code == 200
    commands.deactivate_staff(team, "li", "离职", "admin")
    assert web.get("/").status_code == 303  # the live session ends at once
    assert web.login("li", PASSWORD).status_code == 401


def test_repeated_failures_are_slowed_down(web: WebClient) -> None:
    for _ in range(3):  # three free attempts
        assert web.login("clerk2", "guess").status_code == 401
    waiting = web.login("clerk2", PASSWORD)  # even the right password must wait now
    assert waiting.status_code == 429
    assert "秒后再试" in waiting.text


def test_a_form_post_without_the_csrf_token_is_refused(web: WebClient) -> None:
    web.login("admin", PASSWORD)
    refused = web.post("/logout", data={})
    assert refused.status_code == 403
    assert "表单已过期" in refused.text  # a page of what was typed (tests/test_sessions.py)
    assert web.get("/").status_code == 200  # still logged in: the forged post did nothing
    wrong = web.post("/logout", data={"csrf_token": "not-the-token"})
    assert wrong.status_code == 403
    ok = web.post("/logout", data={"csrf_token": web.csrf("/")})
    assert ok.status_code == 303
    assert web.get("/").status_code == 303
    # Logging in needs the token too (login CSRF).
    no_token = web.post("/login", data={"username": "admin", "password": PASSWORD})
    assert no_token.status_code == 403


def test_security_headers_and_no_outside_resources(web: WebClient) -> None:
    page = web.get("/login")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert "http://" not in page.text.replace("http://archive.test", "")
    assert "https://" not in page.text
    assert web.get("/static/app.css").status_code == 200


def test_personal_tokens_are_shown_once_and_stored_hashed(web: WebClient, team: Archive) -> None:
    staff, token = commands.issue_token(team, "clerk2", "DMS 接口", "admin")
    assert token not in str(staff.tokens)  # only the hash is kept
    token_id = next(iter(staff.tokens))
    from archive.staff.credentials import check_token

    assert check_token(team, token).username == "clerk2"
    assert check_token(team, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    commands.revoke_token(team, "clerk2", token_id, "admin")
    assert check_token(team, token) is None
