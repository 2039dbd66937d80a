"""Real processes on one PostgreSQL: ``archive serve`` on loopback ports and ``archive
worker``, each with a home of its own as if on another machine (issue 16).

Used by tests/test_servers.py and bench/servers.py. Each process runs in a process group of
its own, so stopping it stops whatever it started too (uvicorn, OCR helpers); a process that
dies early is reported with the end of its log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg

from tests.pgcluster import free_port

if TYPE_CHECKING:
    from archive.bootstrap import Archive

ARCHIVE = [sys.executable, "-m", "archive.cli"]
START_SECONDS = 90  # a loaded 2-core machine imports FastAPI, jieba and WeasyPrint slowly


@dataclass
class Process:
    """One ``archive`` process, its output in ``log``."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: nothing of it runs on, nothing is cleaned up."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM to the group, then SIGKILL if it has not gone within ``timeout``."""
        if not self.alive:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, chars: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n{text[-chars:]}"

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # gone already
            os.killpg(self.popen.pid, signum)  # the group's id is the leader's pid


def node_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of one machine's ``archive`` process: its own home, the shared
    database. Settings of the caller's shell that would change the outcome are dropped."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ARCHIVE_SEARCH_ENGINE", "ARCHIVE_SCANS", "ARCHIVE_SCANS_DIR", "ARCHIVE_STAFF")
    }
    env.update(ARCHIVE_HOME=str(home), ARCHIVE_DATABASE_URL=database_url, **extra)
    return env


def spawn(name: str, args: Iterable[str], env: dict[str, str], logs: Path) -> Process:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [*ARCHIVE, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, killed as one
        )
    return Process(name, popen, log)


@dataclass
class Server:
    process: Process
    url: str  # http://127.0.0.1:PORT


def start_server(
    name: str, home: Path, database_url: str, logs: Path, *, follow: bool = False
) -> Server:
    """``archive serve`` on a free loopback port; ``follow=False`` leaves the shared read
    models to ``archive worker`` (``--no-follow``), as a deployment with workers runs it."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if not follow:
        args.append("--no-follow")
    process = spawn(name, args, node_env(home, database_url), logs)
    return Server(process, f"http://127.0.0.1:{port}")


def start_worker(name: str, home: Path, database_url: str, logs: Path, *extra: str) -> Process:
    return spawn(name, ["worker", *extra], node_env(home, database_url), logs)


def wait_until_up(servers: Iterable[Server], timeout: float = START_SECONDS) -> None:
    """Until every server answers ``/healthz``; a server that exits is reported with its log."""
    deadline = time.monotonic() + timeout
    for server in servers:
        while True:
            if not server.process.alive:
                raise RuntimeError(f"{server.process.name} exited\n{server.process.tail()}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.process.name} did not answer\n{server.process.tail()}")
            time.sleep(0.2)


def prepare_homes(
    database_url: str,
    homes: list[Path],
    passwords: dict[str, str],
    register: Callable[[Archive], None] | None = None,
    setup: Callable[[Archive], None] | None = None,
) -> dict[str, Any]:
    """Make the archive once, from the first home, as ``archive init`` and ``archive staff``
    would: the staff (``register``, default the small test team of tests.support.TEAM) with
    ``passwords``, an API token for admin, the checkpoint key, then ``setup`` (paperwork filed
    before the servers start); then copy ``keys/`` to every other home (one key, several
    machines: the issue's one signer). Returns ``{"token": …}``."""
    from archive import commands
    from archive.bootstrap import open_archive
    from archive.config import Settings
    from archive.integrity import ensure_key
    from archive.staff.session_key import ensure_session_key
    from tests.support import register_team

    archive = open_archive(Settings(home=homes[0], database_url=database_url))
    try:
        (register or register_team)(archive)
        for username, password in passwords.items():
            commands.set_password(archive, username, password, "admin")
        _, token = commands.issue_token(archive, "admin", "servers test", "admin")
        ensure_key(archive.settings)
        ensure_session_key(archive.settings)  # archive init makes both keys
        if setup is not None:
            setup(archive)
    finally:
        archive.close()
    for home in homes[1:]:
        shutil.copytree(homes[0] / "keys", home / "keys")
    return {"token": token}


def read_model_positions(database_url: str) -> dict[str, int]:
    """Every shared read model's position, read from its own table (not through the read
    models: opening them would make the caller one more writer)."""
    with psycopg.connect(database_url) as conn:
        found = dict(conn.execute("SELECT name, position FROM read_models.projection_positions"))
        found.update(conn.execute("SELECT 'ledger', position FROM ledger.projection_positions"))
        found.update(conn.execute("SELECT 'search', position FROM search.state"))
    return found


def log_head(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        (head,) = conn.execute("SELECT max(notification_id) FROM archive_events").fetchone()
    return int(head or 0)


@dataclass
class Fleet:
    """Servers and workers on one database; ``close`` stops every process it started."""

    database_url: str
    root: Path
    token: str
    servers: list[Server] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def home(self, name: str) -> Path:
        return self.root / name

    def api(self, server: Server, timeout: float = 60) -> httpx.Client:
        """An API client of one server, with admin's token."""
        return httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=timeout,
        )

    def add_server(self, name: str, *, follow: bool = False) -> Server:
        server = start_server(name, self.home(name), self.database_url, self.logs, follow=follow)
        self.servers.append(server)
        return server

    def add_worker(self, name: str, *extra: str) -> Process:
        worker = start_worker(name, self.home(name), self.database_url, self.logs, *extra)
        self.workers.append(worker)
        return worker

    def tails(self) -> str:
        return "\n".join(p.tail() for p in [*(s.process for s in self.servers), *self.workers])

    def close(self) -> None:
        for process in [*(s.process for s in self.servers), *self.workers]:
            process.stop()


def open_fleet(
    database_url: str,
    root: Path,
    names: list[str],
    passwords: dict[str, str],
    register: Callable[[Archive], None] | None = None,
    setup: Callable[[Archive], None] | None = None,
) -> Fleet:
    """The archive made on ``database_url`` (see :func:`prepare_homes`) and one home per name
    under ``root``, keys copied; nothing started yet."""
    root.mkdir(parents=True, exist_ok=True)
    made = prepare_homes(database_url, [root / n for n in names], passwords, register, setup)
    return Fleet(database_url, root, made["token"])


class Browser:
    """Someone at a browser behind a load balancer: one cookie jar for every server (they
    share the host 127.0.0.1, and cookies do not look at ports)."""

    def __init__(self, timeout: float = 60) -> None:
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def csrf(self, url: str) -> str:
        import re

        page = self.client.get(url)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {url} ({page.status_code})"
        return match.group(1)

    def login(self, server: Server, username: str, password: str) -> httpx.Response:
        token = self.csrf(f"{server.url}/login")
        return self.client.post(
            f"{server.url}/login",
            data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        )

    def close(self) -> None:
        self.client.close()
