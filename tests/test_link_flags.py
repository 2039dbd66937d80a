"""Search flags of issue 12 (item 4): late submission (submitted after the deadline, or past it
today and not submitted), unlinked, mileage mismatch, further claim, signed on behalf,
submission withdrawn; the same answers from both engines, and after a rebuild."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date

import pytest

from archive import commands
from archive.bootstrap import Archive, ReadModels
from archive.queries.search import FLAG_LABELS
from events.document import Document
from tests.support import each_engine, engines_for, warranty_claim, work_order

SQLITE_ONLY = pytest.mark.parametrize("store_settings", ["sqlite"], indirect=True)


def change(archive: Archive, kind: str, number: str, act: Callable[[Document], None]) -> None:
    """An event the write path records (links, a late submission, a signature on behalf,
    a withdrawn submission), stored as it stores it."""
    doc = archive.app.repository.get(Document.create_id(kind, number))
    act(doc)
    archive.app.save(doc)


@pytest.fixture
def flagged(team: Archive) -> Archive:
    """Today is 3 November; claims are due 7 days after the repair. Each claim has its own
    work order, but WC-0005: a further claim on WO-0001 whose mileage differs."""
    now = team.now()
    claims = {
        "WC-0001": "2026-11-03",  # due 11-10: not late
        "WC-0002": "2026-10-20",  # due 10-27, not submitted: late today
        "WC-0003": "2026-10-20",  # submitted late
        "WC-0004": "2026-11-01",  # submitted, then withdrawn
    }
    for n, (number, day) in enumerate(claims.items(), start=1):
        order = f"WO-000{n}"
        commands.file_document(team, "work_order", work_order(order, business_date=day), "admin")
        commands.file_document(
            team,
            "warranty_claim",
            warranty_claim(number, business_date=day, work_order_no=order),
            "admin",
        )
    commands.file_document(
        team,
        "warranty_claim",
        warranty_claim("WC-0005", mileage_km=12000),
        "admin",
        further_reason="第二次更换点火线圈",
    )
    # Submissions as the write path records them (signatures and scans aside).
    change(
        team,
        "warranty_claim",
        "WC-0003",
        lambda d: d.submit("SVW-3", "admin", now, late=True, deadline=date(2026, 10, 27)),
    )

    def submit_and_withdraw(doc: Document) -> None:
        doc.submit("SVW-4", "admin", now, deadline=date(2026, 11, 8))
        doc.withdraw_submission("索赔员拒签：旧件编号不符", "zhou", now)

    change(team, "warranty_claim", "WC-0004", submit_and_withdraw)
    commands.file_document(
        team,
        "diagnostic_sheet",
        _sheet("DS-0001", work_order_no="WO-9999"),
        "admin",
        unlinked_reason="系统上线前的纸质单",
    )
    change(
        team,
        "work_order",
        "WO-0001",
        lambda d: d.sign(
            "technician", "sun", "sun", now, on_behalf_of="li", on_behalf_reason="病假"
        ),
    )
    return team


def _sheet(number: str, **overrides: object) -> dict[str, object]:
    return {
        "number": number,
        "business_date": "2026-11-03",
        "work_order_no": "WO-0001",
        "customer_words": "刹车有异响",
        "advisor_findings": "前刹车片磨损",
        "service_advisor": "wang",
        **overrides,
    }


@pytest.fixture
def engines(flagged: Archive) -> Iterator[dict[str, ReadModels]]:
    with each_engine(flagged) as opened:
        yield opened


EXPECTED = {
    "flag:late_submission": ["WC-0002", "WC-0003"],
    "flag:上报逾期 kind:warranty_claim": ["WC-0002", "WC-0003"],
    "kind:warranty_claim -flag:late_submission": ["WC-0001", "WC-0004", "WC-0005"],
    "flag:submission_due": ["WC-0001", "WC-0002", "WC-0004", "WC-0005"],
    "flag:unlinked": ["DS-0001"],
    "flag:mileage_mismatch": ["WC-0005"],
    "flag:further_claim": ["WC-0005"],
    "flag:代签": ["WO-0001"],
    "flag:submission_withdrawn": ["WC-0004"],
}


def numbers(models: ReadModels, query: str) -> list[str]:
    return sorted(h.number for h in models.search.search(query, page_size=100).hits)


@SQLITE_ONLY
def test_each_flag_finds_its_documents_in_every_engine_and_after_a_rebuild(
    engines: dict[str, ReadModels],
) -> None:
    for engine, models in engines.items():
        for query, expected in EXPECTED.items():
            assert numbers(models, query) == expected, (engine, query)
        (hit,) = models.search.search("WC-0002 kind:warranty_claim").hits
        assert "late_submission" in hit.flags  # the hit says so too, though the index cannot
        models.runner.rebuild("search")
        for query, expected in EXPECTED.items():
            assert numbers(models, query) == expected, (engine, query, "rebuilt")


@SQLITE_ONLY
def test_a_claim_becomes_late_when_its_deadline_passes(engines, flagged, clock) -> None:
    models = engines["whoosh"]
    assert "WC-0001" not in numbers(models, "flag:late_submission")
    clock.advance(days=8)  # 11 November: WC-0001 (due 10 November) is late, unchanged
    assert "WC-0001" in numbers(models, "flag:late_submission")


def test_every_flag_has_a_chinese_label() -> None:
    from projections.search.query import FLAGS

    assert set(FLAG_LABELS) == FLAGS
    assert all(not label.isascii() for label in FLAG_LABELS.values())


@SQLITE_ONLY
def test_the_month_knows_which_claims_are_unsubmitted_and_which_were_late(
    flagged: Archive,
) -> None:
    with flagged.month_volumes() as months:
        assert [d.number for d in months.unsubmitted("2026-11")] == [
            "WC-0001",
            "WC-0004",  # its submission was withdrawn
            "WC-0005",
        ]
        assert [d.number for d in months.unsubmitted("2026-10")] == ["WC-0002"]
        october = {d.number: d for d in months.documents("2026-10")}
        assert october["WC-0003"].submitted and october["WC-0003"].late_submission
        assert not october["WC-0002"].submitted and not october["WC-0002"].late_submission
        blocked = {b.number for d in months.documents("2026-11") for b in d.blockers}
        assert "WC-0004" in blocked


@SQLITE_ONLY
def test_what_ocr_read_on_a_scan_is_found_until_the_scan_is_withdrawn(team: Archive) -> None:
    import io

    from tests.support import pdf_bytes

    commands.file_document(team, "work_order", work_order(), "admin")
    scan = commands.attach_scan(
        team, "work_order", "WO-0001", io.BytesIO(pdf_bytes("slip")), "admin", "slip.pdf"
    ).active_scans()[0]

    def read(doc: Document) -> None:  # as archive/commands/ocr.py records a reading
        doc.trigger_event(
            Document.ScanRead,
            sha256=scan.sha256,
            derived_sha256=scan.sha256,
            text="客户签字确认：变速箱换挡顿挫",
            pages=1,
            engine="test",
            page_fingerprints=[],
            timestamp=team.now(),
        )

    change(team, "work_order", "WO-0001", read)
    for engine in engines_for(team.settings):
        team.settings = replace(team.settings, search_engine=engine)
        with team.read_models() as models:
            models.runner.catch_up()
            assert numbers(models, "顿挫") == ["WO-0001"], engine
            models.runner.rebuild("search")
            assert numbers(models, "顿挫") == ["WO-0001"], (engine, "rebuilt")
    commands.withdraw_scan(team, "work_order", "WO-0001", scan.sha256, "扫错了", "admin")
    for engine in engines_for(team.settings):
        team.settings = replace(team.settings, search_engine=engine)
        with team.read_models() as models:
            models.runner.catch_up()
            assert numbers(models, "顿挫") == [], engine
