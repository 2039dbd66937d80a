"""Issue 17, items 4, 6 and 7 on the write path: every text the archive stores is free of
control and direction characters, numbers and line tables have bounded size, a drawn
signature decodes as a real image, a scan PDF has a bounded number of pages. Each refusal is
a clear BadInput, and the archive is left exactly as it was (no event, no blob)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from archive import commands
from archive.blobs import BlobRejected, BlobStore
from archive.bootstrap import Archive, open_archive
from archive.config import Settings
from archive.errors import BadInput, Conflict, ValidationFailed
from archive.kinds.fieldtypes import Context, Integer, Invalid, Lines, Mileage, Money, Text
from archive.kinds.registry import get_kind
from archive.kinds.text import printable, text_problem
from tests.support import event_count, pdf_bytes, png_bytes, work_order

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "evil\u202egpj.exe" reads as "evilexe.jpg"


def stored_blobs(archive: Archive) -> list[Path]:
    return sorted(p for p in archive.blobs.root.rglob("*") if p.is_file())


# -- the text rule (archive/kinds/text.py) --------------------------------------------------


@pytest.mark.parametrize(
    "value", ["a\x1b[31mb", "a\x00b", "a\x7fb", "a\x85b", f"a{RLO}b", "a\u2066b", "a\ud800b"]
)
def test_control_direction_and_surrogate_characters_are_refused(value: str) -> None:
    zh, en = text_problem(value, multiline=True) or ("", "")
    assert "U+" in zh + en or "surrogate" in en
    assert any("\u4e00" <= c <= "\u9fff" for c in zh)


def test_newline_only_where_the_field_holds_lines_and_tab_everywhere() -> None:
    assert text_problem("第一行\n第二行", multiline=True) is None
    assert text_problem("第一行\n第二行") == ("不能换行", "must be a single line")
    assert text_problem("甲\t乙") is None
    assert text_problem("京A12345 大众朗逸 ¥420.50") is None


def test_printable_escapes_what_a_terminal_would_act_on() -> None:
    assert printable("x\x1b[2Jy") == "x\\x1b[2Jy"
    assert printable(f"abc{RLO}def") == "abc\\u202edef"
    assert printable("a\nb") == "a\\x0ab"
    assert printable("a\nb\x07", keep_lines=True) == "a\nb\\x07"


# -- field values (archive/kinds/fieldtypes.py) ---------------------------------------------


def test_text_fields_refuse_direction_overrides_and_stray_newlines() -> None:
    ctx = Context()
    with pytest.raises(Invalid, match="U\\+202E"):
        Text().parse(f"张三{RLO}", ctx)
    with pytest.raises(Invalid, match="single line"):
        Text().parse("张\n三", ctx)
    assert Text(multiline=True).parse("张\r\n三", ctx) == "张\n三"


@pytest.mark.parametrize("field_type", [Integer(), Mileage(), Money()])
@pytest.mark.parametrize(
    "raw", ["9" * 5000, 9**9999, "1" + " " * 50_000 + "x"], ids=["digits", "int", "blanks"]
)
def test_numbers_with_thousands_of_digits_are_refused_clearly(field_type, raw) -> None:
    started = time.monotonic()
    with pytest.raises(Invalid) as caught:
        field_type.parse(raw, Context())
    assert "太长" in caught.value.message_zh or "不是" in caught.value.message_zh
    assert time.monotonic() - started < 0.5


def test_a_line_table_nested_thousands_deep_is_refused() -> None:
    lines = get_kind("work_order").field("labour_lines").type
    assert isinstance(lines, Lines)
    with pytest.raises(Invalid, match="nested too deeply"):
        lines.parse("[" * 100_000 + "]" * 100_000, Context())


# -- command arguments, on both stores ------------------------------------------------------


def test_reasons_claim_numbers_and_labels_refuse_control_characters(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    before = event_count(team)
    for attempt in (
        lambda: commands.void_document(team, "work_order", "WO-1", f"重复{RLO}录入", "sun"),
        lambda: commands.refuse_signature(
            team, "work_order", "WO-1", "technician", "拒绝\x1b[2J", "li"
        ),
        lambda: commands.attach_scan(
            team, "work_order", "WO-1", io.BytesIO(pdf_bytes()), "admin", "a.pdf", "标\x00签"
        ),
        lambda: commands.sign_document(
            team,
            "work_order",
            "WO-1",
            "customer",
            "admin",
            customer_name=f"张三{RLO}",
            signature_image=io.BytesIO(png_bytes(3)),
        ),
    ):
        with pytest.raises(ValidationFailed) as caught:
            attempt()
        assert caught.value.problems[0].message_zh
    assert event_count(team) == before
    assert stored_blobs(team) == []


def test_a_claim_number_with_a_direction_override_is_refused(team: Archive) -> None:
    from tests.support import file_claim

    file_claim(team, "WC-1")
    before = event_count(team)
    with pytest.raises(ValidationFailed) as caught:
        commands.submit_claim(team, "warranty_claim", "WC-1", f"SVW{RLO}0001", "admin")
    assert caught.value.problems[0].field == "claim_no"
    assert event_count(team) == before


# -- signatures and scans decode (archive/commands/media.py) --------------------------------


def png_of(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("image", "code"),
    [
        (b"\x89PNG\r\n\x1a\n", "image_unreadable"),  # the signature bytes and nothing else
        (png_bytes(1)[:40], "image_unreadable"),  # cut off in the middle
        (png_of(2, 300), "signature_size"),
        (png_of(5000, 40), "signature_size"),
        (pdf_bytes(), "signature_not_png"),
    ],
)
def test_a_drawn_signature_must_decode_as_a_real_png(
    team: Archive, image: bytes, code: str
) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    before = event_count(team)
    with pytest.raises(BadInput) as caught:
        commands.sign_document(
            team, "work_order", "WO-1", "customer", "admin", signature_image=io.BytesIO(image)
        )
    assert caught.value.code == code
    assert caught.value.message_zh and caught.value.message_en
    assert event_count(team) == before
    assert stored_blobs(team) == []


def test_a_real_drawn_signature_is_still_taken(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    doc = commands.sign_document(
        team,
        "work_order",
        "WO-1",
        "customer",
        "admin",
        signature_image=io.BytesIO(png_of(300, 120)),
    )
    assert [s.role for s in doc.signatures] == ["customer"]


def pdf_of_pages(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_scan_with_more_pages_than_the_limit_is_refused(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    limit = team.settings.max_scan_pages
    before = event_count(team)
    with pytest.raises(BlobRejected) as caught:
        commands.attach_scan(
            team, "work_order", "WO-1", io.BytesIO(pdf_of_pages(limit + 1)), "admin"
        )
    assert caught.value.code == "too_many_pages"
    assert f"{limit + 1}" in caught.value.message_zh
    assert event_count(team) == before
    assert stored_blobs(team) == []
    doc = commands.attach_scan(team, "work_order", "WO-1", io.BytesIO(pdf_of_pages(limit)), "admin")
    assert len(doc.scans) == 1


def test_twenty_thousand_pages_are_refused_without_reading_each(tmp_path: Path) -> None:
    from archive.commands.media import scan_check

    store = BlobStore(tmp_path / "blobs", 50 * 1024 * 1024)
    big = pdf_of_pages(20_000)
    started = time.monotonic()
    with pytest.raises(BlobRejected, match="20000 pages"):
        store.put_bytes(big, check=scan_check(50))
    assert time.monotonic() - started < 1.5  # walking the page tree alone takes ~1.6 s here


def test_the_page_limit_is_a_setting(tmp_path: Path) -> None:
    settings = Settings.from_env({"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_MAX_SCAN_PAGES": "3"})
    assert settings.max_scan_pages == 3


@pytest.mark.parametrize(
    "scan", [b"\xff\xd8\xff\xe0" + b"\x00" * 200, png_bytes(2)[:50], b"%PDF-1.4\ngarbage\n"]
)
def test_a_scan_that_does_not_decode_is_refused(team: Archive, scan: bytes) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    before = event_count(team)
    with pytest.raises(BlobRejected) as caught:
        commands.attach_scan(team, "work_order", "WO-1", io.BytesIO(scan), "admin")
    assert caught.value.code in {"image_unreadable", "pdf_unreadable"}
    assert event_count(team) == before
    assert stored_blobs(team) == []


# -- temporary files of uploads (archive/blobs.py) ------------------------------------------


def test_stale_uploads_are_swept_when_the_archive_opens(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    tmp = settings.layout.blobs / "tmp"
    tmp.mkdir(parents=True)
    stale, fresh = tmp / "upload-stale", tmp / "upload-fresh"
    stale.write_bytes(b"%PDF-half")
    fresh.write_bytes(b"%PDF-still streaming")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    open_archive(settings).close()
    assert not stale.exists()
    assert fresh.exists()  # another process may still be writing it


def test_an_upload_cut_off_midway_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs", 1024 * 1024)

    class CutOff:
        def __init__(self) -> None:
            self.sent = 0

        def read(self, size: int) -> bytes:
            self.sent += 1
            if self.sent > 3:
                raise ConnectionResetError("client went away")
            return b"%PDF-1.4\n" if self.sent == 1 else b"0" * size

    with pytest.raises(ConnectionResetError):
        store.put_stream(CutOff())  # type: ignore[arg-type]
    assert list(store.tmp_dir.iterdir()) == []


# -- strict version lookup through the app (archive/queries/documents.py) -------------------


@pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)
def test_a_version_the_document_does_not_have_is_not_found_on_api_and_page(
    team: Archive,
) -> None:
    from tests.webclient import WebClient
    from web.app import create_app

    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    commands.amend_document(
        team, "work_order", "WO-1", {"model": "大众速腾"}, "抄错车型", 1, "admin"
    )
    commands.set_password(team, "admin", "counter-pass-1", "admin")
    token = commands.issue_token(team, "admin", "测试", "admin")[1]
    client = WebClient(create_app(team, follow_log=False))
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        url = "/api/v1/documents/work_order/WO-1"
        missing = client.get(url, params={"version": 99}, headers=bearer)
        assert missing.status_code == 404
        assert missing.json()["error"] == "version_not_found"
        assert missing.json()["message_zh"] == "该单据没有第 99 版"
        first = client.get(url, params={"version": 1}, headers=bearer).json()
        assert first["version"] == 1 and first["fields"]["model"] == "大众朗逸"
        client.login("admin", "counter-pass-1")
        page = client.get("/d/work_order/WO-1", params={"version": 99})
        assert page.status_code == 404
        assert "该单据没有第 99 版" in page.text
    finally:
        client.close()


def test_nested_values_are_refused_as_such_not_read_as_their_text() -> None:
    from archive.kinds.validation import parse_fields

    kind = get_kind("work_order")
    nested = [[["x"]]]
    data = {
        "repair_type": nested,
        "vin": {"a": 1},
        "technicians": [nested],
        "labour_lines": [{"description": nested, "hours": "1", "amount": {"x": 1}}],
    }
    values, problems = parse_fields(kind, data, Context(), partial=True)
    assert values == {}
    assert sorted(p.field for p in problems) == [
        "labour_lines.1.amount",
        "labour_lines.1.description",
        "repair_type",
        "technicians",
        "vin",
    ]
    assert all("不能是列表或对象" in p.message_zh for p in problems)


def test_a_drawn_signature_refused_by_the_document_leaves_no_image(team: Archive) -> None:
    commands.file_document(team, "work_order", work_order("WO-1"), "admin")
    commands.file_document(team, "work_order", work_order("WO-2"), "admin")
    commands.sign_document(
        team, "work_order", "WO-1", "customer", "admin", signature_image=io.BytesIO(png_of(90, 30))
    )
    commands.void_document(team, "work_order", "WO-2", "重复开单", "sun")
    kept = stored_blobs(team)
    before = event_count(team)
    for number, code in (("WO-1", "already_signed"), ("WO-2", "voided")):
        with pytest.raises(Conflict) as caught:
            commands.sign_document(
                team,
                "work_order",
                number,
                "customer",
                "admin",
                signature_image=io.BytesIO(png_of(120, 40)),
            )
        assert caught.value.code == code
    assert stored_blobs(team) == kept
    assert event_count(team) == before
