"""Issue 17, item 8: an upload that does not finish leaves no temporary file behind: not when
the client disconnects half way (a real server, a real socket), not when it goes silent, and
not after the server itself was killed (swept when the archive next opens; see also
tests/test_input_limits.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from archive import commands
from archive.bootstrap import Archive
from tests.support import TEAM, work_order
from tests.webclient import WebClient
from web.api import multipart
from web.app import create_app

SQLITE_ONLY = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
BOUNDARY = "archive-cut-boundary"
FILE_HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
    "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
).encode()


def leftovers(home: Path) -> list[str]:
    tmp = home / "blobs" / "tmp"
    return sorted(os.listdir(tmp)) if tmp.exists() else []


@SQLITE_ONLY
def test_an_upload_gone_silent_is_given_up_and_its_file_removed(
    team: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multipart, "UPLOAD_IDLE_SECONDS", 0.5)
    commands.file_document(team, "work_order", work_order(), "admin")
    token = commands.issue_token(team, "admin", "测试", "admin")[1]
    seen_during: list[list[str]] = []

    async def body() -> AsyncIterator[bytes]:
        yield FILE_HEAD
        yield b"0" * 100_000
        await asyncio.sleep(0.3)
        seen_during.append(leftovers(team.settings.home))
        await asyncio.sleep(3)  # the client says nothing more, and does not hang up
        yield b"0"

    client = WebClient(create_app(team, follow_log=False))
    try:
        started = time.monotonic()
        answer = client.post(
            "/api/v1/documents/work_order/WO-0001/scans",
            content=body(),
            headers={
                "Authorization": f"Bearer {token}",
                "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            },
        )
    finally:
        client.close()
    assert answer.status_code == 422
    assert answer.json()["error"] == "upload_stalled"
    assert time.monotonic() - started < 3
    assert len(seen_during[0]) == 1  # it was streaming into a temporary file...
    assert leftovers(team.settings.home) == []  # ...which is gone
    assert commands.load_document(team, "work_order", "WO-0001")[1].scans == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_client_that_hangs_up_half_way_leaves_no_temporary_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_STAFF": "admin"}
    archive_cmd = [sys.executable, "-m", "archive.cli"]

    def run(*args: str, input: str | None = None) -> str:
        done = subprocess.run(
            [*archive_cmd, *args], env=env, input=input, capture_output=True, text=True, check=True
        )
        return done.stdout

    for username, name, roles, registration_no in TEAM:
        extra = [f"--role={r}" for r in roles] + (
            [f"--registration-no={registration_no}"] if registration_no else []
        )
        run("staff", "add", username, "--name", name, *extra)
    run("file", "work_order", "--data", "-", input=json.dumps(work_order()))
    token = json.loads(run("staff", "token", "admin", "--label", "测试", "--json"))["token"]
    port = _free_port()
    server = subprocess.Popen(
        [*archive_cmd, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(
            (
                "POST /api/v1/documents/work_order/WO-0001/scans HTTP/1.1\r\nHost: archive\r\n"
                f"Authorization: Bearer {token}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                "Content-Length: 5000000\r\n\r\n"
            ).encode()
            + FILE_HEAD
            + b"0" * 1_000_000
        )
        deadline = time.monotonic() + 10
        while not leftovers(home):  # the upload streams into its temporary file
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.1)
        client.close()  # four fifths of the file never come
        deadline = time.monotonic() + 10
        while leftovers(home):
            assert time.monotonic() < deadline, f"left behind: {leftovers(home)}"
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    shown = json.loads(run("show", "work_order", "WO-0001", "--json"))
    assert shown["scans"] == []
