"""Sessions in the database, the login throttle, the Secure cookie behind a proxy, and the
form sent from a session that has changed: through the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from archive import commands
from archive.bootstrap import Archive
from archive.config import Settings
from archive.staff.sessions import SESSION_SECONDS, open_session_store, session_store
from archive.staff.throttle import LoginThrottle
from tests.support import PASSWORD, event_count
from tests.webclient import WebClient
from web.app import create_app
from web.security import SESSION_COOKIE

OURS = {"Origin": "http://archive.test"}  # what a browser sends with a form of our pages


def second_browser(web: WebClient) -> WebClient:
    return WebClient(web.app, owns_app=False)


# -- sessions --------------------------------------------------------------------------------


def test_the_cookie_is_a_random_id_and_the_session_a_row(web: WebClient, team: Archive) -> None:
    web.login("admin", PASSWORD)
    cookie = web.client.cookies.get(SESSION_COOKIE)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)  # nothing but the id
    with session_store(team.settings) as store:
        row = store.find(cookie)
        assert row is not None and row.username == "admin"
        assert row.expires - row.created == SESSION_SECONDS
        assert store.sessions_of("admin") == 1
    assert team.settings.database_url or team.layout.sessions_db.is_file()


def test_logout_ends_the_session_for_good(web: WebClient) -> None:
    web.login("admin", PASSWORD)
    stolen = web.client.cookies.get(SESSION_COOKIE)
    assert web.post("/logout", data={"csrf_token": web.csrf("/")}).status_code == 303
    web.client.cookies.set(SESSION_COOKIE, stolen)  # the old cookie, replayed
    assert web.get("/").status_code == 303


def test_a_password_set_elsewhere_logs_the_person_out(web: WebClient, team: Archive) -> None:
    web.login("li", PASSWORD)
    assert web.get("/").status_code == 200
    commands.set_password(team, "li", "new secret 1", "admin")  # e.g. from the CLI
    assert web.get("/").status_code == 303


def test_two_server_processes_share_the_sessions(web: WebClient, team: Archive) -> None:
    other = WebClient(create_app(team, follow_log=False))  # a second server on the same store
    try:
        web.login("admin", PASSWORD)
        other.client.cookies.set(SESSION_COOKIE, web.client.cookies.get(SESSION_COOKIE))
        assert other.get("/").status_code == 200
        assert other.post("/logout", data={"csrf_token": other.csrf("/")}).status_code == 303
        assert web.get("/").status_code == 303  # logged out in one, out in both
    finally:
        other.close()


@pytest.mark.postgres
def test_processes_starting_at_once_create_the_tables_once(postgres_url: str, tmp_path) -> None:
    """Every server process opens the store when it starts; on a fresh PostgreSQL database
    they create its tables at the same moment (under an advisory lock)."""
    from archive.config import Settings

    settings = Settings(home=tmp_path / "home", database_url=postgres_url)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            with session_store(settings) as store:
                store.start("admin")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_store(settings) as store:
        assert store.sessions_of("admin") == 8


def test_a_session_expires_after_a_working_day(team: Archive) -> None:
    now = [1_000_000.0]
    store = open_session_store(team.settings, clock=lambda: now[0])
    try:
        session_id, _ = store.start("admin")
        now[0] += SESSION_SECONDS - 1
        assert store.find(session_id) is not None
        now[0] += 2
        assert store.find(session_id) is None
    finally:
        store.close()


# -- the login throttle ----------------------------------------------------------------------


def test_one_names_failures_do_not_lock_out_the_others(web: WebClient) -> None:
    for _ in range(5):  # all from the same address, as at the dealership
        web.login("clerk2", "guess")
    assert web.login("clerk2", PASSWORD).status_code == 429
    assert web.login("admin", PASSWORD).status_code == 303


def test_parallel_guesses_check_at_most_the_free_attempts(team: Archive) -> None:
    """30 threads, each with its own connection (as 30 server processes would be), guess the
    same account at once: only the free attempts get through the check."""
    stores = [open_session_store(team.settings) for _ in range(30)]
    start = threading.Barrier(len(stores))
    waits: list[float] = []

    def guess(store) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        waits.append(LoginThrottle(store).attempt("clerk2"))

    threads = [threading.Thread(target=guess, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    assert len(waits) == 30
    assert sum(1 for w in waits if w == 0) == LoginThrottle.FREE_ATTEMPTS


def _guess_in_threads(settings: Settings, threads: int) -> list[float]:
    """One server process: its own store, ``threads`` guesses at once."""
    store = open_session_store(settings)
    try:
        throttle = LoginThrottle(store)
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda _: throttle.attempt("clerk2"), range(threads)))
    finally:
        store.close()


def test_guesses_from_three_processes_at_once_are_throttled_as_one(team: Archive) -> None:
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("fork")) as processes:
        waits = [
            w
            for batch in processes.map(_guess_in_threads, [team.settings] * 3, [10] * 3)
            for w in batch
        ]
    assert len(waits) == 30
    assert sum(1 for w in waits if w == 0) == LoginThrottle.FREE_ATTEMPTS


def test_parallel_wrong_passwords_through_the_app(web: WebClient) -> None:
    token = web.csrf()
    data = {"username": "clerk2", "password": "guess", "csrf_token": token, "next": "/"}

    async def all_at_once() -> list[httpx.Response]:
        return await asyncio.gather(*(web.client.post("/login", data=data) for _ in range(30)))

    statuses = [r.status_code for r in web.loop.run_until_complete(all_at_once())]
    assert statuses.count(401) == LoginThrottle.FREE_ATTEMPTS
    assert statuses.count(429) == 30 - LoginThrottle.FREE_ATTEMPTS


def test_the_throttle_is_shared_by_two_server_processes(web: WebClient, team: Archive) -> None:
    other = WebClient(create_app(team, follow_log=False))
    try:
        for _ in range(LoginThrottle.FREE_ATTEMPTS):
            assert web.login("li", "guess").status_code == 401
        waiting = other.login("li", PASSWORD)
        assert waiting.status_code == 429 and "秒后再试" in waiting.text
    finally:
        other.close()


def test_the_delay_grows_and_success_forgets(team: Archive) -> None:
    now = [1_000_000.0]
    store = open_session_store(team.settings, clock=lambda: now[0])
    throttle = LoginThrottle(store)
    try:
        for _ in range(3):
            assert throttle.attempt("li") == 0
        assert throttle.attempt("li") == pytest.approx(1.0)
        now[0] += 1
        assert throttle.attempt("li") == 0  # the 4th failure: the next waits 2 s
        assert throttle.attempt("li") == pytest.approx(2.0)
        assert throttle.attempt("LI ") == pytest.approx(2.0)  # one account, however typed
        throttle.succeeded("li")
        assert throttle.attempt("li") == 0
    finally:
        store.close()


# -- the Secure cookie behind a TLS proxy ----------------------------------------------------


def test_https_gets_a_secure_cookie(web: WebClient) -> None:
    web.client.base_url = httpx.URL("https://archive.test")
    cookie = web.get("/login").headers["set-cookie"].lower()
    assert "; secure" in cookie


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_serve_trusts_the_forwarded_scheme_only_from_the_proxy(
    team: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archive.cli.operations import server_config

    monkeypatch.setenv("ARCHIVE_HOME", str(team.settings.home))
    config = server_config("127.0.0.1", 8000, forwarded_allow_ips="10.0.0.1")
    config.load()  # builds the app as `archive serve` does, behind uvicorn's proxy headers
    app = config.loaded_app
    try:

        def cookie_from(client_ip: str) -> str:
            async def fetch() -> httpx.Response:
                transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://archive.test"
                ) as client:
                    return await client.get("/login", headers={"X-Forwarded-Proto": "https"})

            return asyncio.run(fetch()).headers["set-cookie"].lower()

        assert "; secure" in cookie_from("10.0.0.1")  # the TLS proxy
        assert "; secure" not in cookie_from("10.0.0.99")  # anyone else cannot claim https
    finally:
        app.app.state.read_models.close()
        app.app.state.archive.close()


# -- a form sent from a session that has changed ---------------------------------------------


def test_a_stale_form_comes_back_with_what_was_typed(web: WebClient, team: Archive) -> None:
    web.login("clerk2", PASSWORD)
    stale_token = web.csrf("/staff")  # clerk2 leaves the form open...
    web.post("/logout", data={"csrf_token": web.csrf("/")})
    web.login("admin", PASSWORD)  # ...and the admin logs in on the same PC
    before = event_count(team)
    typed = {
        "username": "zhang.san",
        "name": '<script>alert("x")</script>张三',
        "roles": ["clerk", "technician"],
        "registration_no": "BA-0009",
        "csrf_token": stale_token,
    }
    page = web.post("/staff", data=typed, headers=OURS)
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    assert "表单已过期" in page.text and "赵敏（admin）" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert event_count(team) == before and team.staff.get("zhang.san") is None  # not acted on
    # Send it again as the person now logged in: the hidden fields carry what was typed.
    form = re.search(r'<form method="post" action="/staff".*?</form>', page.text, re.S)
    assert form is not None
    resent: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)):
        resent.setdefault(name, []).append(value.replace("&lt;", "<").replace("&gt;", ">"))
    resent["name"] = [v.replace("&#34;", '"') for v in resent["name"]]
    assert resent["roles"] == ["clerk", "technician"]
    assert resent["csrf_token"] == [web.csrf("/")]  # a fresh token, the admin's
    assert web.post("/staff", data=resent).status_code == 303
    person = team.staff.get("zhang.san")
    assert person is not None and person.roles == ("clerk", "technician")
    assert person.name == '<script>alert("x")</script>张三'


def test_a_stale_filing_form_names_its_fields_as_the_clerk_knows_them(
    web: WebClient, team: Archive
) -> None:
    web.login("admin", PASSWORD)
    typed = {"csrf_token": "old", "number": "WO-0042", "vin": "LSVAM4188C2184825"}
    typed |= {"fault_description": "异响\n刹车片", "parts_lines[0][qty]": "2"}
    before = event_count(team)
    page = web.post("/file/work_order", data=typed, headers=OURS)
    assert page.status_code == 403
    assert "VIN（车架号）" in page.text and "第 1 行" in page.text
    assert "异响\n刹车片" in page.text  # several lines stay several lines
    assert event_count(team) == before  # nothing filed


def test_a_stale_form_with_a_file_and_a_password(web: WebClient, team: Archive) -> None:
    web.login("li", PASSWORD)
    page = web.post(
        "/staff/li/password",
        data={"csrf_token": "from-another-session", "old_password": PASSWORD, "label": "甲"},
        files={"scan": ("单据.pdf", b"%PDF-1.4 ...", "application/pdf")},
        headers={"Referer": "http://archive.test/staff"},
    )
    assert page.status_code == 403 and "表单已过期" in page.text
    assert PASSWORD not in page.text  # passwords are never shown back
    assert "需要重新选择" in page.text and "单据.pdf" in page.text
    assert 'type="file" name="scan"' in page.text and 'enctype="multipart/form-data"' in page.text


def test_a_stale_form_when_nobody_is_logged_in(web: WebClient) -> None:
    web.login("li", PASSWORD)
    token = web.csrf("/staff")
    web.post("/logout", data={"csrf_token": token})
    page = web.post(
        "/staff/li/token", data={"csrf_token": token, "label": "DMS 接口"}, headers=OURS
    )
    assert page.status_code == 403
    assert "现在没有人登录" in page.text and "DMS 接口" in page.text
    assert 'action="/staff/li/token"' not in page.text  # nothing to resend as nobody


def test_a_forged_cross_site_post_gets_nothing_to_click(web: WebClient, team: Archive) -> None:
    web.login("admin", PASSWORD)
    forged = {"username": "mallory", "name": "坏人", "roles": "admin", "csrf_token": "guess"}
    page = web.post("/staff", data=forged, headers={"Origin": "https://evil.example"})
    assert page.status_code == 403 and "不是从本系统的页面提交的" in page.text
    assert 'action="/staff"' not in page.text.split("<main>")[1]  # no ready "send again"
    assert web.csrf("/") not in page.text.split("<main>")[1]
    assert team.staff.get("mallory") is None


def test_a_stale_login_form_asks_to_log_in_again(web: WebClient) -> None:
    page = web.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": "old"})
    assert page.status_code == 403 and "页面已过期，请重新登录" in page.text
    assert 'value="li"' in page.text and PASSWORD not in page.text


def test_cookie_holds_no_username_even_when_anonymous(tmp_path: Path, team: Archive) -> None:
    client = WebClient(create_app(team, follow_log=False))
    try:
        client.get("/login")
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", client.client.cookies.get(SESSION_COOKIE))
        with session_store(team.settings) as store:
            assert store.sessions_of("admin") == 0  # no row before a login
    finally:
        client.close()


def test_a_non_ascii_token_is_just_a_wrong_token(web: WebClient) -> None:
    web.login("li", PASSWORD)
    page = web.post("/logout", data={"csrf_token": "令牌"})
    assert page.status_code == 403 and "表单已过期" in page.text  # not a 500
    api = web.post(
        "/api/v1/documents/work_order", json={}, headers={"X-CSRF-Token": "令牌".encode()}
    )
    assert api.status_code == 403 and api.json()["error"] == "csrf"


def test_odd_usernames_are_just_wrong_logins(web: WebClient) -> None:
    for name in ("a\x00b", "x" * 5000, "管理员", " "):
        assert web.login(name, "guess").status_code == 401, name


def test_finding_a_session_takes_no_write_lock(tmp_path: Path) -> None:
    """Every request with a cookie looks its session up: while another process holds the
    file's write lock (a login being counted, an admin change), pages must still load."""
    import sqlite3

    settings = Settings(home=tmp_path / "home")
    with session_store(settings) as store:
        session_id, _ = store.start("li")
        writer = sqlite3.connect(settings.layout.sessions_db, isolation_level=None, timeout=0)
        writer.execute("BEGIN IMMEDIATE")  # another process, mid-write
        try:
            found = ThreadPoolExecutor(1).submit(store.find, session_id)
            assert found.result(timeout=5).username == "li"
        finally:
            writer.execute("ROLLBACK")
            writer.close()
