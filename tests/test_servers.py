"""The real thing (issue 16, point 6): two ``archive serve`` processes on two loopback ports
and one ``archive worker``, three homes (three machines) on one throwaway PostgreSQL, talked
to over HTTP only.

The servers run ``--no-follow``: the worker keeps the shared read models caught up, and a
server catches up only what a request of its own waits for. The tests run in file order on
one set of processes; the last one kills the worker.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import psycopg
import pytest

from tests.pgcluster import PostgresCluster
from tests.servers_support import (
    ARCHIVE,
    Browser,
    Fleet,
    Server,
    log_head,
    node_env,
    open_fleet,
    read_model_positions,
    wait_until_up,
)
from tests.support import PASSWORD, pdf_bytes, work_order

if TYPE_CHECKING:
    from archive.bootstrap import Archive

# Slow by nature: three Python processes start (FastAPI, jieba, WeasyPrint), a bundle renders.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

BUNDLE_MONTH = "2026-10"
PEOPLE = {"admin": PASSWORD, "auditor": PASSWORD, "clerk2": PASSWORD}


@pytest.fixture(scope="module")
def fleet(
    postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    name = f"servers_{uuid.uuid4().hex[:12]}"
    url = postgres_cluster.create_database(name)
    root = tmp_path_factory.mktemp("servers")
    try:
        fleet = open_fleet(url, root, ["a", "b", "worker"], PEOPLE, setup=_sealed_month)
        try:
            fleet.add_worker("worker", "--interval", "0.2")
            fleet.add_server("a")
            fleet.add_server("b")
            wait_until_up(fleet.servers)
            yield fleet
        finally:
            fleet.close()
    finally:
        postgres_cluster.drop_database(name)


def _sealed_month(archive: Archive) -> None:
    """Two work orders of the bundle month, sealed by the service manager despite their
    missing signatures (on the first machine, before any server runs)."""
    from archive import commands

    for n in (1, 2):
        data = work_order(f"WO-10{n:02d}", business_date=f"{BUNDLE_MONTH}-1{n}")
        commands.file_document(archive, "work_order", data, "admin")
    commands.seal_month(archive, BUNDLE_MONTH, "sun", "测试：两台服务器")


def servers(fleet: Fleet) -> tuple[Server, Server]:
    first, second = fleet.servers
    return first, second


def numbers_found(client: httpx.Client, query: str) -> list[str]:
    """Every hit's number, page after page."""
    numbers: list[str] = []
    page, pages = 1, 1
    while page <= pages:
        answer = client.get("/api/v1/search", params={"q": query, "page": page, "page_size": 200})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        numbers += [hit["number"] for hit in body["hits"]]
        page, pages = page + 1, body["pages"]
    return numbers


def test_a_document_filed_on_one_server_is_found_on_the_other_within_2_seconds(
    fleet: Fleet,
) -> None:
    a, b = servers(fleet)
    with fleet.api(a) as on_a, fleet.api(b) as on_b:
        filed = on_a.post(
            "/api/v1/documents/work_order",
            json=work_order("WO-2001", business_date="2026-11-20", fault_description="变速箱异响"),
        )
        assert filed.status_code == 201, filed.text
        started = time.monotonic()
        while "WO-2001" not in numbers_found(on_b, "变速箱 kind:work_order"):
            assert time.monotonic() - started < 2, "not found on the second server in 2 s"
            time.sleep(0.05)


def test_a_scan_uploaded_to_one_server_is_served_by_the_other(fleet: Fleet) -> None:
    a, b = servers(fleet)
    scan = pdf_bytes("two servers")
    with fleet.api(a) as on_a, fleet.api(b) as on_b:
        filed = on_a.post("/api/v1/documents/work_order", json=work_order("WO-2002"))
        assert filed.status_code == 201, filed.text
        uploaded = on_a.post(
            "/api/v1/documents/work_order/WO-2002/scans",
            files={"file": ("slip.pdf", scan, "application/pdf")},
        )
        assert uploaded.status_code == 200, uploaded.text
        sha256 = hashlib.sha256(scan).hexdigest()
        assert sha256 in json.dumps(uploaded.json())
        # Not from the first machine's disk: the second keeps only what it fetched itself.
        assert not list(fleet.home("b").rglob(sha256))
        served = on_b.get(f"/api/v1/scans/{sha256}")
        assert served.status_code == 200, served.text
        assert hashlib.sha256(served.content).hexdigest() == sha256


def test_a_bundle_started_on_one_server_is_downloaded_from_the_other(fleet: Fleet) -> None:
    a, b = servers(fleet)
    browser = Browser()
    try:
        assert browser.login(a, "admin", PASSWORD).status_code == 303
        token = browser.csrf(f"{a.url}/months/{BUNDLE_MONTH}")
        started = browser.client.post(
            f"{a.url}/months/{BUNDLE_MONTH}/bundles",
            data={"binding": "return", "supplement": "0", "csrf_token": token},
        )
        assert started.status_code == 303, started.text
        job_id = httpx.URL(started.headers["location"]).params["job"]
        deadline = time.monotonic() + 60
        while True:  # polled on the second server only
            status = browser.client.get(f"{b.url}/jobs/{job_id}")
            assert status.status_code == 200, status.text
            job = status.json()
            assert job["state"] != "failed", job
            if job["state"] == "done":
                break
            assert time.monotonic() < deadline, f"bundle still {job}"
            time.sleep(0.2)
        from_b = browser.client.get(f"{b.url}{job['url']}")
        from_a = browser.client.get(f"{a.url}{job['url']}")
    finally:
        browser.close()
    assert from_b.status_code == 200, from_b.text
    assert from_b.content.startswith(b"%PDF-")
    assert from_b.content == from_a.content


def test_wrong_passwords_on_both_servers_are_throttled_as_one(fleet: Fleet) -> None:
    """Three failures are free, the fourth waits 1 s, the fifth 2 s, the sixth 4 s, counted
    wherever they were made. Alternating servers, each sees only every other attempt: a
    count of its own would let its first three through (six in all)."""
    a, b = servers(fleet)
    at = {a.url: Browser(), b.url: Browser()}
    tokens = {url: browser.csrf(f"{url}/login") for url, browser in at.items()}
    answers: list[int] = []
    try:
        for server in (a, b, a, b, a, b):
            answer = at[server.url].client.post(
                f"{server.url}/login",
                data={
                    "username": "auditor",
                    "password": "wrong password 1",
                    "csrf_token": tokens[server.url],
                    "next": "/",
                },
            )
            answers.append(answer.status_code)
            if answer.status_code == 429:
                break
    finally:
        for browser in at.values():
            browser.close()
    assert answers[:3] == [401, 401, 401], answers
    assert answers[-1] == 429, f"six wrong passwords over two servers, none throttled: {answers}"


def test_a_login_form_from_one_server_is_accepted_by_the_other(fleet: Fleet) -> None:
    """Behind a load balancer without sticky sessions the login page and its POST may reach
    two servers: the anonymous form's CSRF token must be good on both. It is an HMAC under
    ``keys/session.key`` (archive/staff/session_key.py), which ``archive init`` makes beside
    the checkpoint key, so homes set up as the README says (init, then copy ``keys/``) agree;
    a server started on a home without it would make its own, and refuse the other's forms."""
    a, b = servers(fleet)
    browser = Browser()
    try:
        token = browser.csrf(f"{a.url}/login")
        answer = browser.client.post(
            f"{b.url}/login",
            data={"username": "clerk2", "password": PASSWORD, "csrf_token": token, "next": "/"},
        )
        assert answer.status_code == 303, answer.text[:500]
        assert browser.client.get(f"{a.url}/").status_code == 200  # and the session is shared
    finally:
        browser.close()


def _orders_csv(count: int) -> bytes:
    rows = [
        work_order(
            f"BULK-{n:04d}",
            business_date="2026-11-25",
            mileage_km=str(20000 + n),
            fault_description=f"批量测试 {n}",
        )
        for n in range(count)
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue().encode()


def _batch_open(url: str) -> bool:
    """Whether some process holds a read model's lock: it is inside a batch's transaction
    (nothing else takes advisory locks while the servers are idle)."""
    with psycopg.connect(url) as conn:
        (held,) = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        ).fetchone()
    return held > 0


def test_killing_the_worker_mid_batch_loses_and_repeats_nothing(fleet: Fleet) -> None:
    _, b = servers(fleet)
    url = fleet.database_url
    (worker,) = fleet.workers
    worker.stop()  # the new events wait for the small-batch worker started below
    count = 200
    before = read_model_positions(url)
    # Started now, so that it loads while the import does (it finds nothing new till then).
    small = fleet.add_worker("worker-small", "--interval", "0.05", "--batch-size", "10")
    # Through the command line, as a DMS export is filed: a server's API would settle its own
    # write (catch every read model up before answering), leaving the worker nothing to do.
    orders = fleet.root / "orders.csv"
    orders.write_bytes(_orders_csv(count))
    imported = subprocess.run(
        [*ARCHIVE, "import", "work_order", str(orders)],
        env=node_env(fleet.home("a"), url, ARCHIVE_STAFF="admin"),
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    head = log_head(url)
    deadline = time.monotonic() + 60
    while True:  # until some read model is part way through the new events, in a batch
        now = read_model_positions(url)
        if any(before.get(n, 0) < p < head for n, p in now.items()) and _batch_open(url):
            break
        assert small.alive, small.tail()
        assert time.monotonic() < deadline, f"no progress: {now} (head {head})\n{small.tail()}"
        time.sleep(0.01)
    small.kill()
    killed_at = read_model_positions(url)
    assert any(p < head for p in killed_at.values()), killed_at
    fleet.add_worker("worker-again", "--interval", "0.1")
    deadline = time.monotonic() + 60
    while min(read_model_positions(url).values()) < head:
        assert time.monotonic() < deadline, (
            f"never caught up: {read_model_positions(url)}, head {head}"
        )
        time.sleep(0.1)
    followed = _snapshot(fleet)
    assert len(followed["search.entries"]) > count, followed.keys()
    assert len(followed["ledger.ledger_leaves"]) == head  # one leaf an event, none twice
    with fleet.api(b) as on_b:  # every document, each once
        found = numbers_found(on_b, "kind:work_order 批量测试")
    assert sorted(found) == [f"BULK-{n:04d}" for n in range(count)]
    _rebuild_all(fleet)
    assert _snapshot(fleet) == followed


def _snapshot(fleet: Fleet) -> dict[str, list[str]]:
    """Every row of every shared read model but their positions, as text, sorted; and the
    ledger's leaves."""
    skip = {"projection_positions", "projection_shapes", "state"}
    tables: dict[str, list[str]] = {}
    with psycopg.connect(fleet.database_url) as conn:
        names = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('read_models', 'search', 'ledger') ORDER BY 1, 2"
        ).fetchall()
        for schema, table in names:
            if table in skip:
                continue
            rows = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
            tables[f"{schema}.{table}"] = sorted(r[0] for r in rows)
    return tables


def _rebuild_all(fleet: Fleet) -> None:
    """What ``archive rebuild`` and ``archive rebuild ledger`` do, from a fourth home, once
    the workers have stopped."""
    from archive.bootstrap import open_archive, open_read_models
    from archive.config import Settings

    for worker in fleet.workers:
        worker.stop()
    archive = open_archive(Settings(home=fleet.home("checker"), database_url=fleet.database_url))
    try:
        models = open_read_models(archive)
        try:
            models.runner.rebuild()
            models.runner.rebuild("ledger")
        finally:
            models.close()
    finally:
        archive.close()
