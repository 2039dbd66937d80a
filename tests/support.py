"""Builders shared by the tests: a controllable clock, a small team, valid payloads."""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pypdf import PdfWriter

from archive import commands
from archive.bootstrap import Archive, ReadModels, open_read_models
from archive.config import FILE_ENGINES, SEARCH_ENGINES, Settings

VALID_VIN = "1M8GDM9AXKP042788"
OTHER_VIN = "LSVAM4188C2184825"

# username, name, roles, registration number
PASSWORD = "correct horse 1"  # every test login's password (tests.conftest.web)

TEAM = [
    ("admin", "赵敏", ["admin", "clerk"], "BA-0001"),
    ("clerk2", "钱芳", ["clerk"], None),
    ("wang", "王强", ["service_advisor"], None),
    ("li", "李师傅", ["technician"], None),
    ("zhou", "周建", ["claims_clerk"], None),
    ("sun", "孙经理", ["service_manager"], None),
    ("auditor", "吴审计", ["auditor"], None),
]


class FakeClock:
    """Starts at a fixed instant and moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 3, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def register_team(archive: Archive) -> None:
    for username, name, roles, registration_no in TEAM:
        commands.register_staff(
            archive,
            username=username,
            name=name,
            roles=roles,
            actor="admin",
            registration_no=registration_no,
        )


def work_order(number: str = "WO-0001", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": number,
        "business_date": "2026-11-03",
        "vin": VALID_VIN,
        "plate": "京A12345",
        "model": "大众朗逸",
        "mileage_km": "12,345",
        "customer_name": "张三",
        "customer_phone": "138 0013 8000",
        "service_advisor": "王强",
        "technicians": "李师傅",
        "repair_type": "一般维修",
        "fault_description": "制动时有异响，刹车片磨损严重",
        "work_done": "更换前刹车片",
        "labour_lines": [{"description": "更换前刹车片", "hours": "1.5", "amount": "150"}],
        "parts_lines": [
            {"part_no": "5QD698151", "name": "前刹车片", "qty": "1", "amount": "420.5"}
        ],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def warranty_claim(number: str = "WC-0001", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": number,
        "business_date": "2026-11-03",
        "work_order_no": "WO-0001",
        "vin": VALID_VIN,
        "mileage_km": 12345,
        "fault_description": "发动机故障灯亮，怠速抖动",
        "handling_process": "读取故障码，更换点火线圈",
        "parts": [{"part_no": "06H905110G", "name": "点火线圈", "qty": 1}],
        "service_fee": "230.00",
        "technicians": ["li"],
    }
    data.update(overrides)
    return data


def order_for_claim(archive: Archive, claim: dict[str, Any]) -> None:
    """File the work order a claim names, as the claim says it (a claim must name a filed
    order), unless it is filed already."""
    from events.document import Document

    number = claim["work_order_no"]
    if Document.create_id("work_order", number) in archive.app.repository:
        return
    order = work_order(
        number,
        business_date=claim["business_date"],
        vin=claim["vin"],
        mileage_km=claim["mileage_km"],
    )
    commands.file_document(archive, "work_order", order, "admin")


def file_claim(
    archive: Archive, number: str = "WC-0001", actor: str = "admin", **overrides: Any
) -> Any:
    """A warranty claim filed after the work order it names."""
    data = warranty_claim(number, **overrides)
    order_for_claim(archive, data)
    return commands.file_document(archive, "warranty_claim", data, actor)


def sign_and_scan_claim(archive: Archive, number: str = "WC-0001") -> Any:
    """Every signature a claim needs (on its current version) and its scan: ready to submit."""
    for role, who in (("technician", "li"), ("claims_clerk", "zhou"), ("service_manager", "sun")):
        commands.sign_document(archive, "warranty_claim", number, role, who)
    commands.sign_document(
        archive,
        "warranty_claim",
        number,
        "customer",
        "admin",
        signature_image=io.BytesIO(png_bytes(len(number))),
    )
    return commands.attach_scan(
        archive, "warranty_claim", number, io.BytesIO(pdf_bytes(number)), "admin", "claim.pdf"
    )


def pdf_bytes(text: str = "scan") -> bytes:
    """A small but well-formed one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def png_bytes(seed: int = 0) -> bytes:
    """A tiny grayscale PNG whose pixels depend on ``seed``."""
    import struct

    width, height = 8, 4
    raw = b"".join(
        b"\x00" + bytes((seed + x * y) % 256 for x in range(width)) for y in range(height)
    )

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def event_count(archive: Archive) -> int:
    return archive.app.head()


def edit_manifest(
    pdf: bytes,
    edit: Callable[[dict[str, Any]], None],
    pages: Callable[[PdfWriter], None] | None = None,
) -> bytes:
    """The PDF with its embedded manifest.json changed by ``edit`` (and its pages by ``pages``),
    as someone holding only the file could do it with pypdf."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    names = writer.root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    (spec,) = [names[i + 1] for i in range(0, len(names), 2) if names[i] == "manifest.json"]
    stream = spec.get_object()["/EF"]["/F"].get_object()
    manifest = json.loads(stream.get_data())
    edit(manifest)
    stream.set_data(json.dumps(manifest, ensure_ascii=False).encode())
    if pages is not None:
        pages(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def engines_for(settings: Settings) -> tuple[str, ...]:
    """The search engines an archive on ``settings`` can use: postgres needs its database."""
    return SEARCH_ENGINES if settings.database_url else FILE_ENGINES


@contextmanager
def each_engine(archive: Archive) -> Iterator[dict[str, ReadModels]]:
    """The read models of ``archive`` once per search engine, each caught up (the engines'
    conformance tests ask every query of both)."""
    opened: dict[str, ReadModels] = {}
    try:
        for engine in engines_for(archive.settings):
            archive.settings = replace(archive.settings, search_engine=engine)
            opened[engine] = models = open_read_models(archive)
            models.runner.catch_up()
        yield opened
    finally:
        for models in opened.values():
            models.close()
