"""What the review of issue 17 found at the edges: printing the version a page shows, error
messages wholly in Chinese that name no internal parameter and repeat no huge input, a body
over the limit answered 413, and ``verify-bundle`` quiet about pypdf's own complaints."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive
from events.document import Document
from tests.support import PASSWORD, FakeClock, work_order
from tests.webclient import WebClient

SQLITE_ONLY = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
DOC = "/d/work_order/WO-0001"
API_WO = "/api/v1/documents/work_order/WO-0001"


def _manifest(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return json.loads(reader.attachments["manifest.json"][0])


def _three_versions(team: Archive, clock: FakeClock) -> list[str]:
    """WO-0001 filed, then amended twice, an hour apart; the content hash of each version."""
    commands.file_document(team, "work_order", work_order(), "admin")
    for version, mileage in ((1, 20000), (2, 30000)):
        clock.advance(hours=1)
        commands.amend_document(
            team, "work_order", "WO-0001", {"mileage_km": mileage}, "抄错里程", version, "admin"
        )
    doc_id = Document.create_id("work_order", "WO-0001")
    return [team.app.repository.get(doc_id, version=v).content_hash for v in (1, 2, 3)]


@SQLITE_ONLY
def test_print_pdf_prints_the_version_or_time_the_page_shows(
    team: Archive, clock: FakeClock, web: WebClient
) -> None:
    hashes = _three_versions(team, clock)
    web.login("admin", PASSWORD)

    page = web.get(DOC + "?version=2")
    assert "这是历史状态（第 2 版" in page.text
    assert 'href="/d/work_order/WO-0001/print.pdf?version=2"' in page.text
    earlier = web.get(DOC + "/print.pdf?version=2")
    printed = _manifest(earlier)
    assert [(d["version"], d["content_hash"]) for d in printed["documents"]] == [(2, hashes[1])]
    assert quote("维修委托书-WO-0001-第2版.pdf") in earlier.headers["content-disposition"]

    # Filed at 09:00 local (01:00 UTC), amended at 10:00 and 11:00: 09:30 is the first version.
    page = web.get(DOC + "?as_of=2026-11-03T09:30")
    assert 'href="/d/work_order/WO-0001/print.pdf?as_of=2026-11-03T09%3A30"' in page.text
    printed = _manifest(web.get(DOC + "/print.pdf?as_of=2026-11-03T09%3A30"))
    assert [(d["version"], d["content_hash"]) for d in printed["documents"]] == [(1, hashes[0])]

    current = web.get(DOC)
    assert 'href="/d/work_order/WO-0001/print.pdf"' in current.text
    printed = _manifest(web.get(DOC + "/print.pdf"))
    assert [d["version"] for d in printed["documents"]] == [3]


@SQLITE_ONLY
def test_archive_print_takes_a_version_or_time_as_show_does(
    team: Archive, clock: FakeClock, tmp_path: Path
) -> None:
    from archive.cli import app

    hashes = _three_versions(team, clock)
    env = {"ARCHIVE_HOME": str(team.settings.home), "ARCHIVE_STAFF": "admin"}
    runner = CliRunner()
    for option, value, version in (("--version", "2", 2), ("--as-of", "2026-11-03T09:30", 1)):
        out = tmp_path / f"{version}.pdf"
        done = runner.invoke(
            app, ["print", "work_order", "WO-0001", "-o", str(out), option, value], env=env
        )
        assert done.exit_code == 0, done.output
        reader = PdfReader(io.BytesIO(out.read_bytes()))
        (printed,) = json.loads(reader.attachments["manifest.json"][0])["documents"]
        assert (printed["version"], printed["content_hash"]) == (version, hashes[version - 1])
    missing = runner.invoke(
        app, ["print", "work_order", "WO-0001", "-o", str(out), "--version", "9"], env=env
    )
    assert missing.exit_code == 1 and "该单据没有第 9 版" in missing.output


@SQLITE_ONLY
def test_print_pdf_refuses_a_version_or_time_the_document_page_refuses(
    team: Archive, clock: FakeClock, web: WebClient
) -> None:
    _three_versions(team, clock)
    web.login("admin", PASSWORD)
    for version in ("0", "99"):
        missing = web.get(DOC + f"/print.pdf?version={version}")
        assert missing.status_code == 404, missing.text[:200]
        assert f"该单据没有第 {version} 版" in missing.text
    not_a_number = web.get(DOC + "/print.pdf?version=abc")
    assert not_a_number.status_code == 422 and "版本应为整数" in not_a_number.text
    garbage = web.get(DOC + "/print.pdf?as_of=garbage")
    assert garbage.status_code == 422 and "不是有效时间" in garbage.text
    before = web.get(DOC + "/print.pdf?as_of=2026-11-02T09:00")  # before it was filed
    assert before.status_code == 404 and "尚未存档" in before.text


# -- error wording ----------------------------------------------------------------------------


def _api(team: Archive) -> dict[str, str]:
    commands.file_document(team, "work_order", work_order(), "admin")
    token = commands.issue_token(team, "admin", "review", "admin")[1]
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@SQLITE_ONLY
def test_invalid_json_is_explained_in_chinese_with_its_position(
    team: Archive, web: WebClient
) -> None:
    headers = _api(team)
    bodies = ((b'{"reason": }', "第 1 行第 12 列"), (b'{"reason"\n 1}', "第 2 行第 2 列"))
    for body, where in bodies:
        answer = web.post(API_WO + "/void", content=body, headers=headers)
        assert answer.status_code == 422 and answer.json()["error"] == "json_invalid"
        said = [answer.json()["message_zh"]] + [p["message_zh"] for p in answer.json()["problems"]]
        for zh in said:
            assert where in zh, zh
            assert not re.search("[A-Za-z]", zh.replace("JSON", "")), zh  # no "Expecting value"


@SQLITE_ONLY
def test_a_body_over_the_limit_is_413_payload_too_large(team: Archive, web: WebClient) -> None:
    headers = _api(team)
    huge = b'{"reason": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    answer = web.post(API_WO + "/void", content=huge, headers=headers)
    assert answer.status_code == 413, answer.text[:300]
    body = answer.json()
    assert body["error"] == "too_large"
    assert "请求内容太大" in body["message_zh"] and "1 MB" in body["message_zh"]
    assert body["message_en"].isascii() and "too large" in body["message_en"]


@SQLITE_ONLY
def test_a_hand_made_page_address_names_what_is_wrong_in_words(
    team: Archive, web: WebClient
) -> None:
    commands.file_document(team, "work_order", work_order(), "admin")
    web.login("admin", PASSWORD)
    no_doc = web.get("/scans/zz")
    assert no_doc.status_code == 422
    assert "地址有误：缺少所属单据" in no_doc.text
    assert "doc：" not in no_doc.text and "doc:" not in no_doc.text
    version = web.get(DOC + "?version=abc")
    assert version.status_code == 422 and "地址有误：版本应为整数" in version.text
    assert "version" not in version.text.split('role="alert">')[1].split("</p>")[0]


@SQLITE_ONLY
def test_a_huge_number_is_not_repeated_whole(team: Archive, web: WebClient) -> None:
    headers = _api(team)
    web.login("admin", PASSWORD)
    number = "A" * 5000
    page = web.get(f"/d/work_order/{number}")
    assert page.status_code == 404
    assert "A" * 41 not in page.text and "A" * 40 + "…" in page.text
    answer = web.get(f"/api/v1/documents/work_order/{number}", headers=headers)
    assert answer.status_code == 404
    assert "A" * 41 not in answer.text and "A" * 40 + "…" in answer.json()["message_zh"]
    assert "A" * 40 + "…" in answer.json()["message_en"]
    # A time that does not read, quoted in the message: cut short too.
    garbage = web.get(DOC + "?as_of=" + "9" * 3000)
    assert garbage.status_code == 422 and "9" * 41 not in garbage.text
    assert "“" + "9" * 40 + "…”不是有效时间" in garbage.text


def test_verify_bundle_prints_no_raw_pypdf_warnings(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"not a pdf at all")
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "archive.cli", "verify-bundle", str(fake)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "无法读取该文件" in done.stdout
    for raw in ("invalid pdf header", "EOF marker not found"):
        assert raw not in done.stderr + done.stdout
