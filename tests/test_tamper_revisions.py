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


# edit_manifest rewrites the whole file: the signed bytes move and no longer match.
REWRITTEN = {"signature_invalid", "signature_layout"}


def test_edited_manifest_dealer_leaf_format_and_extra_fields(signed: Signed) -> None:
    dealer = found(
        edit_manifest(signed.pdf, lambda m: m.update(dealer="另一家汽车销售服务有限公司")),
        signed.key,
    )
    # (The pages print the dealer too: the cell check may name them as well.)
    assert {*REWRITTEN, "manifest_dealer_mismatch"} <= set(dealer)
    assert "另一家汽车销售服务有限公司" in dealer["manifest_dealer_mismatch"][0]["message_zh"]

    leaf = found(
        edit_manifest(signed.pdf, lambda m: m["proof"].update(leaf_format="sha1(event)")),
        signed.key,
    )
    assert set(leaf) == {*REWRITTEN, "manifest_leaf_format"}

    extra = found(
        edit_manifest(
            signed.pdf,
            lambda m: (m.update(approved_by="财务"), m["documents"][0].update(note="已付")),
        ),
        signed.key,
    )
    assert set(extra) == {*REWRITTEN, "manifest_unknown_field"}
    message = extra["manifest_unknown_field"][0]["message_zh"]
    assert "approved_by" in message and "documents[0].note" in message

    origin = found(
        edit_manifest(signed.pdf, lambda m: m["proof"].update(origin="archive.other/v1")),
        signed.key,
    )
    assert set(origin) == {*REWRITTEN, "checkpoint_mismatch"}


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


def wrapped(pdf: bytes, page_index: int, drawing: bytes) -> bytes:
    """A signature-wrapping forgery (found in review): from the signed file's last cross-
    reference section on, a new section gives a page one more content stream
    (``drawing``) and moves the signature dictionary, whose byte range now points at a copy of
    the original signed tail appended after. Every signed byte is still there, so the digest
    and the CMS hold, nothing follows the byte range, and the page draws ``drawing`` too."""
    end = pdf.rindex(b"startxref")
    section_at = int(pdf[end:].split()[1])
    byte_range = re.search(rb"/ByteRange \[0 (\d+) (\d+) (\d+)\s*\]", pdf)
    assert byte_range is not None
    length1, start2, length2 = (int(n) for n in byte_range.groups())
    section = pdf[section_at:end]
    trailer = section[section.index(b"trailer") :]
    entries: dict[int, bytes] = {}
    rows = section[: section.index(b"trailer")].split(b"\n")[1:]
    index = 0
    while index < len(rows):
        if not rows[index].strip():
            index += 1
            continue
        first, count = (int(n) for n in rows[index].split())
        entries.update({first + n: rows[index + 1 + n] for n in range(count)})
        index += 1 + count
    signature = int(re.findall(rb"(\d+) 0 obj\s*<<\s*/Contents <", pdf[: length1 + 1])[-1])

    def object_text(number: int, at: int) -> bytes:
        return pdf[at : pdf.index(b"endobj", at) + 6]

    page = PdfWriter(io.BytesIO(pdf)).pages[page_index]
    page_number = page.indirect_reference.idnum
    page_text = object_text(page_number, int(pdf.rindex(b"\n%d 0 obj" % page_number)) + 1)
    contents = page.get_object().raw_get("/Contents")
    old = b" ".join(
        b"%d 0 R" % c.idnum for c in (contents if isinstance(contents, list) else [contents])
    )
    new = int(re.search(rb"/Size (\d+)", trailer).group(1))
    page_text = re.sub(
        rb"/Contents\s+(\[[^\]]*\]|\d+ 0 R)", b"/Contents [" + old + b" %d 0 R]" % new, page_text
    )
    stream = b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        new, len(drawing), drawing,
    )  # fmt: skip
    signature_text = object_text(signature, int(entries[signature].split()[0]))

    def layout(tail_at: int) -> bytes:
        moved = signature_text.replace(
            byte_range.group(0), b"/ByteRange [0 %d %010d %d]" % (length1, tail_at, length2)
        )
        bodies = ((page_number, page_text + b"\n"), (new, stream), (signature, moved + b"\n"))

        def xref(offsets: dict[int, int]) -> bytes:
            rows = dict(entries) | {n: b"%010d 00000 n " % at for n, at in offsets.items()}
            text = b"xref\n" + b"".join(b"%d 1\n%s\n" % (n, rows[n]) for n in sorted(rows))
            size = re.sub(rb"/Size \d+", b"/Size %d" % (new + 1), trailer.split(b"startxref")[0])
            return text + size

        at = section_at + len(xref({n: 0 for n, _ in bodies}))
        offsets, objects = {}, b""
        for number, text in bodies:
            offsets[number] = at + len(objects)
            objects += text
        return pdf[:section_at] + xref(offsets) + objects

    tail_at = len(layout(0))
    return layout(tail_at) + pdf[start2:]


def test_a_signature_wrapped_around_a_new_drawing(signed: Signed) -> None:
    """A white box over an amount of the fee summary, drawn in a section the signature was
    moved around: the signed bytes are all there, the layout is not the file's. (Without the
    layout check this file verified: the box is no text, the digest holds.)"""
    last = len(PdfWriter(io.BytesIO(signed.pdf)).pages) - 1
    forged = wrapped(signed.pdf, last, b"q 1 1 1 rg 300 600 120 20 re f Q")
    codes = found(forged, signed.key)
    assert set(codes) == {"signature_layout"}, codes
