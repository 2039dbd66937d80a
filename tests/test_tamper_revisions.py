"""Changes made after the PDF signature, the way a PDF editor makes them, are refused and named.

Issue 15 found ``verify-bundle`` passing a return bundle with a box drawn over an amount in an
incremental update appended after ``%%EOF``: the signed bytes untouched, every reader showing
the new number. A small demo October is sealed and its return binding made once; each test
tampers with a copy (pypdf's incremental writer, as a PDF editor appends an update) and checks
``verify-bundle``'s exit 1 and the finding that names it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from pypdf import PdfWriter
from pypdf.annotations import FreeText, Rectangle
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
)
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.bundle.check import check_bundle
from archive.bundle.pipeline import bundle_volume
from archive.cli.integrity import register
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.integrity import load_verifier
from archive.integrity.keys import VerifierKey
from tests.support import FakeClock, edit_manifest

MONTH = "2026-10"
# Over the fee summary's table (the last page of a return binding), where the amounts are.
OVER_AMOUNT = (300, 600, 420, 620)


@dataclass
class Signed:
    archive: Archive
    pdf: bytes
    key: VerifierKey
    vkey: Path


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    home = tmp_path_factory.mktemp("revisions") / "home"
    archive = open_archive(Settings(home=home), clock=FakeClock())
    load(archive, generate(DemoSpec(month=MONTH, work_orders=12)))
    commands.seal_month(archive, MONTH, "ma.zhiqiang", force_reason="测试：强制封存")
    pdf = bundle_volume(archive, MONTH, "return").pdf
    key = load_verifier(archive.settings)
    assert key is not None
    try:
        yield Signed(archive, pdf, key, archive.settings.layout.keys / "checkpoint.vkey")
    finally:
        archive.close()


def found(pdf: bytes, key: VerifierKey) -> dict[str, list[dict[str, Any]]]:
    report = check_bundle(pdf, key)
    assert not report.intact
    codes: dict[str, list[dict[str, Any]]] = {}
    for finding in report.findings:
        codes.setdefault(finding.code, []).append(finding.as_dict())
    return codes


def appended(pdf: bytes, change: Callable[[PdfWriter], None]) -> bytes:
    """``pdf`` with an incremental update made by ``change``: the signed bytes stay as they were."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    result = out.getvalue()
    assert result.startswith(pdf) and len(result) > len(pdf)
    return result


def last_page(writer: PdfWriter) -> int:
    return len(writer.pages) - 1


def test_the_untouched_bundle_verifies(signed: Signed) -> None:
    report = check_bundle(signed.pdf, signed.key)
    assert report.intact, [f.message_en for f in report.findings]
    assert report.authenticated and report.signed_by == signed.archive.settings.dealer_name


def test_a_white_box_over_an_amount(signed: Signed) -> None:
    def cover(writer: PdfWriter) -> None:
        box = Rectangle(rect=OVER_AMOUNT, interior_color="ffffff")
        box[NameObject("/C")] = ArrayObject([FloatObject(1), FloatObject(1), FloatObject(1)])
        writer.add_annotation(last_page(writer), box)

    codes = found(appended(signed.pdf, cover), signed.key)
    assert set(codes) == {"revision_after_signature", "annotation_after_signature"}
    (after,) = codes["annotation_after_signature"]
    pages = len(PdfWriter(io.BytesIO(signed.pdf)).pages)
    assert f"第 {pages} 页 /Square" in after["message_zh"]


def test_a_box_with_other_digits_over_an_amount(signed: Signed) -> None:
    """A square annotation whose appearance paints white and then other digits."""

    def overwrite(writer: PdfWriter) -> None:
        width, height = OVER_AMOUNT[2] - OVER_AMOUNT[0], OVER_AMOUNT[3] - OVER_AMOUNT[1]
        appearance = DecodedStreamObject()
        appearance.set_data(
            f"1 1 1 rg 0 0 {width} {height} re f "
            "0 0 0 rg BT /F1 12 Tf 4 5 Td (9999.00) Tj ET".encode()
        )
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        appearance.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(
                    [NumberObject(0), NumberObject(0), NumberObject(width), NumberObject(height)]
                ),
                NameObject("/Resources"): DictionaryObject(
                    {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
                ),
            }
        )
        box = Rectangle(rect=OVER_AMOUNT)
        box[NameObject("/AP")] = DictionaryObject(
            {NameObject("/N"): writer._add_object(appearance)}
        )
        box[NameObject("/F")] = NumberObject(4)
        writer.add_annotation(last_page(writer), box)

    codes = found(appended(signed.pdf, overwrite), signed.key)
    assert set(codes) == {"revision_after_signature", "annotation_after_signature"}


def test_a_free_text_annotation(signed: Signed) -> None:
    def note(writer: PdfWriter) -> None:
        writer.add_annotation(
            last_page(writer),
            FreeText(text="合计 9999.00 元", rect=OVER_AMOUNT, background_color="ffffff"),
        )

    codes = found(appended(signed.pdf, note), signed.key)
    assert set(codes) == {"revision_after_signature", "annotation_after_signature"}
    assert "/FreeText" in codes["annotation_after_signature"][0]["message_zh"]


def test_a_second_revision_that_changes_nothing_visible(signed: Signed) -> None:
    def retitle(writer: PdfWriter) -> None:
        writer.add_metadata({"/Subject": "已核对"})

    codes = found(appended(signed.pdf, retitle), signed.key)
    assert set(codes) == {"revision_after_signature"}
    assert "签名之后又追加了 1 次修改" in codes["revision_after_signature"][0]["message_zh"]


def test_trailing_bytes(signed: Signed) -> None:
    tail = b"\n% nothing to see\n"
    codes = found(signed.pdf + tail, signed.key)
    assert set(codes) == {"bytes_after_signature"}
    assert f"多出 {len(tail)} 个字节" in codes["bytes_after_signature"][0]["message_zh"]


def test_a_flipped_byte_of_the_signature(signed: Signed) -> None:
    """One hex digit of the ECDSA signature, at the end of the CMS (before its zero padding)."""
    match = re.search(rb"/Contents <([0-9a-fA-F]+)>", signed.pdf)
    assert match is not None
    end = match.start(1) + len(match.group(1).rstrip(b"0"))
    at = end - 8
    flipped = bytearray(signed.pdf)
    flipped[at] = ord("1") if flipped[at] != ord("1") else ord("2")
    codes = found(bytes(flipped), signed.key)
    assert set(codes) == {"signature_invalid"}
    assert "签名本身被改动" in codes["signature_invalid"][0]["message_zh"]


def test_a_flipped_byte_of_the_signed_content(signed: Signed) -> None:
    """A byte the signature covers, in a spot every reader skips (the producer's name)."""
    at = signed.pdf.index(b"WeasyPrint")
    changed = signed.pdf[:at] + b"WeasyPrinT" + signed.pdf[at + 10 :]
    assert set(found(changed, signed.key)) == {"signature_invalid"}


def test_edited_manifest_dealer_leaf_format_and_extra_fields(signed: Signed) -> None:
    dealer = found(
        edit_manifest(signed.pdf, lambda m: m.update(dealer="另一家汽车销售服务有限公司")),
        signed.key,
    )
    # (The pages print the dealer too: the cell check may name them as well.)
    assert {"signature_invalid", "manifest_dealer_mismatch"} <= set(dealer)
    assert "另一家汽车销售服务有限公司" in dealer["manifest_dealer_mismatch"][0]["message_zh"]

    leaf = found(
        edit_manifest(signed.pdf, lambda m: m["proof"].update(leaf_format="sha1(event)")),
        signed.key,
    )
    assert set(leaf) == {"signature_invalid", "manifest_leaf_format"}

    extra = found(
        edit_manifest(
            signed.pdf,
            lambda m: (m.update(approved_by="财务"), m["documents"][0].update(note="已付")),
        ),
        signed.key,
    )
    assert set(extra) == {"signature_invalid", "manifest_unknown_field"}
    message = extra["manifest_unknown_field"][0]["message_zh"]
    assert "approved_by" in message and "documents[0].note" in message

    origin = found(
        edit_manifest(signed.pdf, lambda m: m["proof"].update(origin="archive.other/v1")),
        signed.key,
    )
    assert set(origin) == {"signature_invalid", "checkpoint_mismatch"}


def test_the_manifest_changed_in_an_incremental_update(signed: Signed) -> None:
    """The manifest's stream replaced in an appended revision: the signed bytes stay valid, the
    revision is refused, and the edited dealer is named."""

    def redealer(writer: PdfWriter) -> None:
        names = writer.root_object["/Names"]["/EmbeddedFiles"]["/Names"]
        (spec,) = [names[i + 1] for i in range(0, len(names), 2) if names[i] == "manifest.json"]
        stream = spec.get_object()["/EF"]["/F"].get_object()
        manifest = json.loads(stream.get_data())
        manifest["dealer"] = "另一家汽车销售服务有限公司"
        stream.set_data(json.dumps(manifest, ensure_ascii=False).encode())

    codes = found(appended(signed.pdf, redealer), signed.key)
    assert {"revision_after_signature", "manifest_dealer_mismatch"} <= set(codes)
    assert "signature_invalid" not in codes  # the signed revision itself is intact


def test_exit_codes_on_the_command_line(signed: Signed, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    good, bad = tmp_path / "return.pdf", tmp_path / "overlay.pdf"
    good.write_bytes(signed.pdf)
    bad.write_bytes(
        appended(
            signed.pdf,
            lambda w: w.add_annotation(last_page(w), FreeText(text="9999.00", rect=OVER_AMOUNT)),
        )
    )
    ok = runner.invoke(app, ["verify-bundle", str(good), "--key", str(signed.vkey)])
    assert ok.exit_code == 0, ok.output
    refused = runner.invoke(app, ["verify-bundle", str(bad), "--key", str(signed.vkey)])
    assert refused.exit_code == 1, refused.output
    assert "签名之后加上了批注" in refused.output
