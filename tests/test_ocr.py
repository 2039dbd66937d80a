"""Scans read by OCR (``archive ocr``): a one-page Chinese slip, drawn as the demo draws its
paper, becomes a PDF/A-3b with an embedded font and a text layer; the reading is recorded on the
document, and a clerk finds the slip by a word written on it. Kept to one page: OCR takes
about a second a page.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from archive import commands
from archive.bootstrap import open_archive
from archive.config import Settings
from archive.demo.media import scan_pdf
from archive.scans.ocr import CACHE_ENV
from archive.scans.readings import scan_readings, unread_scans
from events.document import Document
from tests.support import FakeClock, register_team, work_order

# A word on the paper and nowhere in the document's fields (Tesseract reads this line exactly
# at the demo's 144 dpi; it misread 蓄电池 as 蕾电池, as OCR does).
WORD = "滤芯"
SLIP = [
    "维修委托书",
    "委托书号：WO-0001",
    "客户：张三",
    f"备注：空调{WORD}异味",
    "日期：2026-11-03",
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    try:
        register_team(archive)
        commands.file_document(archive, "work_order", work_order(), "admin")
        commands.attach_scan(
            archive, "work_order", "WO-0001", io.BytesIO(scan_pdf(SLIP)), "admin", "slip.pdf"
        )
        doc = commands.load_document(archive, "work_order", "WO-0001")[1]
        assert len(unread_scans(doc)) == 1  # the upload did not wait for OCR
    finally:
        archive.close()
    return home


def _archive(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line in its own process, as cron or an operator runs it (OCRmyPDF's
    checks collect garbage mid-run, which closes the streams typer's test runner lends)."""
    env = {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_STAFF": "admin"}
    env.pop(CACHE_ENV, None)  # this slip is read for real
    command = [sys.executable, "-m", "archive.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_archive_ocr_reads_the_slip_into_pdf_a_and_records_it(home: Path) -> None:
    result = _archive(home, "ocr", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["scans"] == 1 and summary["pages"] == 1 and summary["failed"] == []
    again = _archive(home, "ocr")
    assert again.returncode == 0 and "没有等待识别的扫描件" in again.stdout

    archive = open_archive(Settings(home=home), clock=FakeClock())
    try:
        doc: Document = commands.load_document(archive, "work_order", "WO-0001")[1]
        (scan,) = doc.active_scans()
        reading = scan_readings(doc)[scan.sha256]
        assert reading.pages == 1 and len(reading.page_fingerprints) == 1
        assert WORD in reading.text.replace(" ", "")
        assert "Tesseract" in reading.engine and "chi_sim" in reading.engine
        assert not unread_scans(doc)
        # The original stays the evidence; the PDF/A is another blob.
        assert archive.blobs.exists(scan.sha256) and reading.derived_sha256 != scan.sha256
        pdf = archive.blobs.read(reading.derived_sha256)
        text_layer = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
        assert WORD in text_layer.replace(" ", "")
        metadata = PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object()
        assert b"<pdfaid:part>3</pdfaid:part>" in metadata.get_data()
        assert b"/Interpolate true" not in pdf
        # The search projection indexes what was read: the clerk finds the slip by its word.
        found = _archive(home, "search", WORD, "--json")
        assert found.returncode == 0, found.stderr
        assert [h["number"] for h in json.loads(found.stdout)["hits"]] == ["WO-0001"]
    finally:
        archive.close()


def test_the_server_reads_an_uploaded_scan_in_the_background(tmp_path: Path) -> None:
    """Through the API of an app that reads scans (as ``archive serve`` runs it): the upload
    answers before the reading, and the reading lands on the document soon after."""
    from tests.webclient import WebClient
    from web.app import create_app

    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    try:
        register_team(archive)
        commands.file_document(archive, "work_order", work_order(), "admin")
        token = commands.issue_token(archive, "admin", "OCR 测试", "admin")[1]
        app = create_app(archive, follow_log=False, read_scans=True)
        client = WebClient(app)
        try:
            answer = client.post(
                "/api/v1/documents/work_order/WO-0001/scans",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("slip.pdf", scan_pdf(SLIP), "application/pdf")},
            )
            assert answer.status_code == 200, answer.text
            app.state.scan_reader.close()  # waits for the reading queued by the upload
        finally:
            client.close()
        doc = commands.load_document(archive, "work_order", "WO-0001")[1]
        (scan,) = doc.active_scans()
        assert WORD in scan_readings(doc)[scan.sha256].text
    finally:
        archive.close()
