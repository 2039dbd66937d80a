"""The claims clerk's rules in the write path (issue 12, item 2): one claim per work order
unless a further one says why, submission only when signed and scanned, late submissions
recorded with their deadline, a corrected claim submitted again; old events still replay."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.commands import links
from archive.errors import ArchiveError, Conflict, ValidationFailed
from events.document import Document
from projections.runner import LogReader, catch_up
from tests.support import (
    FakeClock,
    event_count,
    file_claim,
    pdf_bytes,
    png_bytes,
    sign_and_scan_claim,
    warranty_claim,
)


def test_one_claim_per_order_unless_a_further_one_says_why(team: Archive) -> None:
    file_claim(team, "WC-1")
    second = warranty_claim("WC-2")
    before = event_count(team)
    with pytest.raises(ValidationFailed) as caught:
        commands.file_document(team, "warranty_claim", second, "admin")
    assert event_count(team) == before
    (problem,) = caught.value.problems
    assert problem.field == "work_order_no"
    assert "已有三包索赔单 WC-1" in problem.message_zh and "追加原因" in problem.message_zh
    doc = commands.file_document(
        team, "warranty_claim", second, "admin", further_reason="另一故障：空调压缩机"
    )
    link = doc.links["work_order_no"]
    assert (link["state"], link["further"], link["reason"]) == (
        "further",
        True,
        "另一故障：空调压缩机",
    )
    # A voided claim does not count: its replacement needs no reason.
    commands.void_document(team, "warranty_claim", "WC-1", "填错", "admin")
    commands.void_document(team, "warranty_claim", "WC-2", "填错", "admin")
    again = commands.file_document(team, "warranty_claim", warranty_claim("WC-3"), "admin")
    assert again.links["work_order_no"]["state"] == "ok"


def test_two_clerks_filing_a_claim_for_one_order_at_once_take_turns(
    team: Archive, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_claim(team, "WC-0")  # files the order; voided so that the order is free again
    commands.void_document(team, "warranty_claim", "WC-0", "作废", "admin")
    # Each clerk pauses between finding the order free and saving his claim: without the
    # lock both would find it free (measured: both filed), with it the second waits.
    asked = links.live_documents_naming

    def slow_answer(*args: object) -> object:
        answer = asked(*args)
        time.sleep(0.4)
        return answer

    monkeypatch.setattr(links, "live_documents_naming", slow_answer)
    # A second process on the same archive; on PostgreSQL, as a second server would be: on
    # another machine, with a home of its own (the claims lock must be the database's).
    settings = team.settings
    if settings.database_url:
        settings = replace(settings, home=tmp_path / "second-server")
    other = open_archive(settings, clock=clock)
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def file(archive: Archive, number: str) -> None:
        start.wait()
        try:
            outcomes[number] = commands.file_document(
                archive, "warranty_claim", warranty_claim(number), "admin"
            )
        except ArchiveError as error:
            outcomes[number] = error

    try:
        threads = [
            threading.Thread(target=file, args=(a, n)) for a, n in ((team, "WC-A"), (other, "WC-B"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.close()
    refusals = [o for o in outcomes.values() if isinstance(o, ValidationFailed)]
    filed = [o for o in outcomes.values() if isinstance(o, Document)]
    assert len(filed) == 1 and len(refusals) == 1, outcomes
    assert "已有三包索赔单" in refusals[0].problems[0].message_zh


def test_submission_waits_for_every_signature_and_the_scan(team: Archive) -> None:
    file_claim(team)
    before = event_count(team)
    with pytest.raises(Conflict) as caught:
        commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1", "admin")
    assert event_count(team) == before
    assert caught.value.code == "not_ready_to_submit"
    message = caught.value.message_zh
    assert "维修技师、索赔员、服务经理、客户尚未在当前版本上签字" in message
    assert "尚未附纸质单据的扫描件" in message
    sign_and_scan_claim(team)
    doc = commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1", "admin")
    assert doc.submission["late"] is False
    assert doc.submission["deadline"] == date(2026, 11, 10)  # 2026-11-03 + 7 days


def test_a_late_submission_is_recorded_with_its_deadline(team: Archive, clock: FakeClock) -> None:
    file_claim(team)
    sign_and_scan_claim(team)
    clock.advance(days=9)  # 2026-11-12 in Beijing
    doc = commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1", "admin")
    assert (doc.submission["late"], doc.submission["deadline"]) == (True, date(2026, 11, 10))
    replayed = team.app.repository.get(doc.id)
    assert replayed.submission["deadline"] == date(2026, 11, 10)
    # The days are configuration: with 10 days the same day is on time.
    team.settings = replace(team.settings, deadline_days={"warranty_claim_days": 10})
    file_claim(team, "WC-2", work_order_no="WO-2")
    sign_and_scan_claim(team, "WC-2")
    on_time = commands.submit_claim(team, "warranty_claim", "WC-2", "SVW-2", "admin")
    assert (on_time.submission["late"], on_time.submission["deadline"]) == (
        False,
        date(2026, 11, 13),
    )


def test_an_amended_or_refused_claim_must_be_submitted_again(team: Archive) -> None:
    file_claim(team)
    sign_and_scan_claim(team)
    doc = commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1", "admin")
    amended = commands.amend_document(
        team,
        "warranty_claim",
        "WC-0001",
        {"service_fee": "260"},
        "工时费更正",
        doc.version,
        "admin",
    )
    assert amended.submission is None
    assert amended.withdrawn_submissions[0]["claim_no"] == "SVW-1"
    assert "工时费更正" in amended.withdrawn_submissions[0]["withdrawn_reason"]
    events = list(team.app.stored_events(amended.id))
    assert [type(e).__name__ for e in events[-2:]] == ["Amended", "SubmissionWithdrawn"]
    assert events[-1].timestamp == events[-2].timestamp  # one commit
    with pytest.raises(Conflict):  # the amendment took the signatures' version away
        commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1b", "admin")
    for role, who in (("technician", "li"), ("claims_clerk", "zhou"), ("service_manager", "sun")):
        commands.sign_document(team, "warranty_claim", "WC-0001", role, who)
    scan = amended.active_scans()[0].sha256
    commands.sign_document(
        team, "warranty_claim", "WC-0001", "customer", "admin", image_sha256=scan
    )
    commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1b", "admin")
    refused = commands.refuse_signature(
        team, "warranty_claim", "WC-0001", "claims_clerk", "旧件未返回", "zhou"
    )
    assert refused.submission is None and len(refused.withdrawn_submissions) == 2
    assert "索赔员拒签" in refused.withdrawn_submissions[1]["withdrawn_reason"]


def test_events_stored_before_the_rules_replay_as_before(team: Archive) -> None:
    """Signed without on_behalf_of, Submitted without late and deadline: as written by the
    code before issue 12, straight into the store."""
    at = team.now()
    doc = Document.file(
        "warranty_claim", "WC-OLD", {"business_date": date(2026, 11, 3)}, "admin", at
    )
    doc.sign("technician", "li", "li", at)
    doc.submit("SVW-OLD", "admin", at)
    stored = []
    for event in doc.collect_events():
        record = team.app.mapper.to_stored_event(event)
        state = json.loads(record.state)
        for new in ("on_behalf_of", "on_behalf_reason", "late", "deadline"):
            state.pop(new, None)
        stored.append(
            StoredEvent(
                originator_id=record.originator_id,
                originator_version=record.originator_version,
                topic=record.topic,
                state=json.dumps(state).encode(),
            )
        )
    team.app.recorder.insert_events(stored)
    old = team.app.repository.get(Document.create_id("warranty_claim", "WC-OLD"))
    assert old.signatures[0].on_behalf_of is None and old.signatures[0].on_behalf_reason == ""
    assert old.submission["late"] is False and old.submission["deadline"] is None
    assert old.links == {} and old.withdrawn_submissions == []


def test_amending_a_further_or_unlinked_claim_keeps_its_reason(team: Archive) -> None:
    file_claim(team, "WC-1")
    further = commands.file_document(
        team, "warranty_claim", warranty_claim("WC-2"), "admin", further_reason="第二个故障"
    )
    amended = commands.amend_document(
        team, "warranty_claim", "WC-2", {"mileage_km": 12400}, "里程更正", further.version, "admin"
    )
    link = amended.links["work_order_no"]
    assert link["further"] and link["reason"] == "第二个故障"
    assert link["state"] == "mileage_differs"  # and the new mileage is flagged
    paper = warranty_claim("WC-3", work_order_no="WO-OLD")
    old = commands.file_document(team, "warranty_claim", paper, "admin", unlinked_reason="旧单")
    kept = commands.amend_document(
        team, "warranty_claim", "WC-3", {"service_fee": "99"}, "更正", old.version, "admin"
    )
    assert kept.version == old.version + 1  # the link did not change: nothing re-recorded
    moved = commands.amend_document(
        team, "warranty_claim", "WC-3", {"mileage_km": 5}, "更正", kept.version, "admin"
    )
    assert moved.links["work_order_no"]["state"] == "unlinked"
    assert moved.links["work_order_no"]["reason"] == "旧单"


def test_a_drawn_signature_is_not_the_papers_scan(team: Archive) -> None:
    """The customer's pad drawing is attached as a scan (客户签名) but is not the paper
    original: submission and the month's blockers wait for the paper's scan. A scan of the
    paper the customer signed, given as his signature's evidence, is the paper's scan."""
    file_claim(team)
    for role, who in (("technician", "li"), ("claims_clerk", "zhou"), ("service_manager", "sun")):
        commands.sign_document(team, "warranty_claim", "WC-0001", role, who)
    doc = commands.sign_document(
        team,
        "warranty_claim",
        "WC-0001",
        "customer",
        "admin",
        signature_image=io.BytesIO(png_bytes(3)),
    )
    assert len(doc.active_scans()) == 1 and doc.paper_scans() == []
    with pytest.raises(Conflict) as caught:
        commands.submit_claim(team, "warranty_claim", "WC-0001", "SVW-1", "admin")
    assert "尚未附纸质单据的扫描件" in caught.value.message_zh
    months = team.open_month_volumes()
    try:
        catch_up(months, LogReader(team.app))
        row = next(d for d in months.documents("2026-11") if d.number == "WC-0001")
        assert [b.code for b in row.blockers] == ["unscanned", "unsubmitted"]
    finally:
        months.close()
    # The slip path: the customer signed the paper claim, its scan is his signature's evidence.
    file_claim(team, "WC-2", work_order_no="WO-2")
    for role, who in (("technician", "li"), ("claims_clerk", "zhou"), ("service_manager", "sun")):
        commands.sign_document(team, "warranty_claim", "WC-2", role, who)
    paper = commands.attach_scan(
        team, "warranty_claim", "WC-2", io.BytesIO(pdf_bytes("WC-2")), "admin", "claim.pdf"
    )
    slip = paper.active_scans()[0].sha256
    commands.sign_document(team, "warranty_claim", "WC-2", "customer", "admin", image_sha256=slip)
    commands.submit_claim(team, "warranty_claim", "WC-2", "SVW-2", "admin")
