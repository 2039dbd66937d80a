"""The pure aggregates (events/document.py, events/staff.py) and canonical content hashing.

No database: aggregates are created and changed in memory, their events collected and replayed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from events.canonical import canonical_bytes, content_hash, plain
from events.document import Document
from events.errors import RuleError
from events.staff import Staff

WORK_ORDER_SIGNERS = ["service_advisor", "technician", "customer"]
SHA_A = hashlib.sha256(b"scan a").hexdigest()
SHA_B = hashlib.sha256(b"scan b").hexdigest()


class Clock:
    """Aware, strictly increasing timestamps to pass as ``at``."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.ticks = count()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=next(self.ticks))


@pytest.fixture
def at() -> Clock:
    return Clock()


def fields() -> dict[str, Any]:
    return {
        "business_date": date(2026, 11, 3),
        "vin": "LSVAM4188C2184825",
        "model": "卡罗拉",
        "mileage_km": 12345,
        "customer_name": "王先生",
        "service_fee": Decimal("120.50"),
    }


def new_doc(at: Clock, number: str = "WO-1") -> Document:
    return Document.file("work_order", number, fields(), actor="clerk1", at=at())


def replay(aggregate: Any) -> Any:
    """Rebuild an aggregate from the events it has collected so far."""
    rebuilt = None
    for event in aggregate.collect_events():
        rebuilt = event.mutate(rebuilt)
    return rebuilt


def rule_code(call) -> str:
    with pytest.raises(RuleError) as caught:
        call()
    error = caught.value
    assert error.message_zh and error.message_en
    return error.code


# -- canonical content -----------------------------------------------------------------------


def test_canonical_bytes_by_hand() -> None:
    data = {"service_fee": Decimal("120.50"), "business_date": date(2026, 11, 3), "name": "王"}
    expected = (
        '{"fields":{"business_date":"2026-11-03","name":"王","service_fee":"120.50"},'
        '"kind":"work_order","number":"WO-1"}'
    ).encode()
    assert canonical_bytes("work_order", "WO-1", data) == expected
    assert content_hash("work_order", "WO-1", data) == hashlib.sha256(expected).hexdigest()


def test_hash_does_not_depend_on_insertion_order() -> None:
    forward = fields()
    backward = dict(reversed(list(forward.items())))
    assert list(forward) != list(backward)
    assert content_hash("work_order", "WO-1", forward) == content_hash(
        "work_order", "WO-1", backward
    )


def test_nested_line_order_does_not_matter_either() -> None:
    one = {"lines": [{"description": "换油", "amount": Decimal("80.00")}]}
    two = {"lines": [{"amount": Decimal("80.00"), "description": "换油"}]}
    assert content_hash("k", "1", one) == content_hash("k", "1", two)
    # ...but the order of the lines themselves does.
    three = {"lines": [{"amount": "1"}, {"amount": "2"}]}
    four = {"lines": [{"amount": "2"}, {"amount": "1"}]}
    assert content_hash("k", "1", three) != content_hash("k", "1", four)


def test_none_fields_are_left_out() -> None:
    with_none = {**fields(), "plate": None}
    assert content_hash("work_order", "WO-1", with_none) == content_hash(
        "work_order", "WO-1", fields()
    )
    assert b"plate" not in canonical_bytes("work_order", "WO-1", with_none)


def test_values_are_serialised_as_strings() -> None:
    moment = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
    data = {
        "service_fee": Decimal("120.50"),
        "business_date": date(2026, 11, 3),
        "settled_at": moment,
        "lines": [{"amount": Decimal("1.00"), "day": date(2026, 1, 2)}],
    }
    parsed = json.loads(canonical_bytes("work_order", "WO-1", data))
    assert parsed["fields"] == {
        "service_fee": "120.50",
        "business_date": "2026-11-03",
        "settled_at": "2026-11-03T14:30:00+00:00",
        "lines": [{"amount": "1.00", "day": "2026-01-02"}],
    }
    assert plain(Decimal("3.10")) == "3.10"


def test_hash_changes_with_content_kind_and_number() -> None:
    base = content_hash("work_order", "WO-1", fields())
    assert content_hash("work_order", "WO-2", fields()) != base
    assert content_hash("warranty_claim", "WO-1", fields()) != base
    assert content_hash("work_order", "WO-1", {**fields(), "mileage_km": 12346}) != base


def test_canonical_bytes_keep_chinese_as_utf8() -> None:
    raw = canonical_bytes("work_order", "WO-1", {"model": "卡罗拉"})
    assert "卡罗拉".encode() in raw
    assert b" " not in raw  # no insignificant white space


# -- Document: filing and ids ----------------------------------------------------------------


def test_create_id_is_deterministic_and_kind_specific() -> None:
    assert Document.create_id("work_order", "0001") == Document.create_id("work_order", "0001")
    assert Document.create_id("work_order", "0001") != Document.create_id("callback", "0001")
    assert Document.create_id("work_order", "0001") != Document.create_id("work_order", "0002")


def test_file(at: Clock) -> None:
    moment = at()
    doc = Document.file("work_order", "WO-1", fields(), actor="clerk1", at=moment)
    assert doc.id == Document.create_id("work_order", "WO-1")
    assert doc.kind == "work_order" and doc.number == "WO-1"
    assert doc.fields == fields()
    assert doc.filed_by == "clerk1"
    assert doc.filed_at == moment
    assert doc.version == 1
    assert doc.status(WORK_ORDER_SIGNERS) == "awaiting_signatures"
    assert doc.missing_roles(WORK_ORDER_SIGNERS) == WORK_ORDER_SIGNERS
    assert doc.content_hash == content_hash("work_order", "WO-1", fields())


def test_filing_copies_the_fields(at: Clock) -> None:
    given = fields()
    doc = Document.file("work_order", "WO-1", given, actor="clerk1", at=at())
    given["model"] = "changed behind its back"
    assert doc.fields["model"] == "卡罗拉"


# -- amendments ------------------------------------------------------------------------------


def test_amend_records_only_effective_changes(at: Clock) -> None:
    doc = new_doc(at)
    doc.collect_events()
    doc.amend(
        {"model": "卡罗拉", "mileage_km": 12400, "plate": "京A12345"},
        reason="抄错里程",
        actor="clerk1",
        at=at(),
    )
    (event,) = doc.collect_events()
    assert isinstance(event, Document.Amended)
    assert event.changes == {"mileage_km": 12400, "plate": "京A12345"}
    assert event.reason == "抄错里程" and event.actor == "clerk1"
    assert doc.fields["mileage_km"] == 12400 and doc.fields["plate"] == "京A12345"
    assert doc.amendment_count == 1


def test_amend_none_clears_a_field(at: Clock) -> None:
    doc = new_doc(at)
    doc.amend({"customer_name": None}, reason="客户要求", actor="clerk1", at=at())
    assert "customer_name" not in doc.fields


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"model": "卡罗拉"},
        {"mileage_km": 12345, "plate": None},
        {"service_fee": Decimal("120.5")},
    ],
)
def test_noop_amendment_refused(at: Clock, changes: dict[str, Any]) -> None:
    doc = new_doc(at)
    version = doc.version
    assert rule_code(lambda: doc.amend(changes, reason="x", actor="clerk1", at=at())) == "no_change"
    assert doc.version == version and doc.amendment_count == 0


def sign_all(doc: Document, at: Clock) -> None:
    doc.sign("service_advisor", "zhangsan", actor="zhangsan", at=at())
    doc.sign("technician", "lisi", actor="lisi", at=at())
    doc.sign("customer", "王先生", actor="clerk1", at=at())


def test_signatures_complete_the_document(at: Clock) -> None:
    doc = new_doc(at)
    doc.sign("service_advisor", "zhangsan", actor="zhangsan", at=at())
    assert doc.signed_roles() == {"service_advisor"}
    assert doc.missing_roles(WORK_ORDER_SIGNERS) == ["technician", "customer"]
    assert doc.status(WORK_ORDER_SIGNERS) == "awaiting_signatures"
    doc.sign("technician", "lisi", actor="lisi", at=at())
    doc.sign("customer", "王先生", actor="clerk1", at=at(), image_sha256=SHA_A)
    assert doc.missing_roles(WORK_ORDER_SIGNERS) == []
    assert doc.status(WORK_ORDER_SIGNERS) == "complete"
    customer = next(s for s in doc.current_signatures() if s.role == "customer")
    assert customer.signer == "王先生" and customer.actor == "clerk1"
    assert customer.image_sha256 == SHA_A
    assert customer.content_hash == content_hash("work_order", "WO-1", fields())


def test_amendment_makes_earlier_signatures_stale(at: Clock) -> None:
    doc = new_doc(at)
    sign_all(doc, at)
    assert doc.status(WORK_ORDER_SIGNERS) == "complete"
    doc.amend({"mileage_km": 12400}, reason="抄错里程", actor="clerk1", at=at())
    assert doc.current_signatures() == []
    assert len(doc.signatures) == 3  # history is kept
    assert doc.missing_roles(WORK_ORDER_SIGNERS) == WORK_ORDER_SIGNERS
    assert doc.status(WORK_ORDER_SIGNERS) == "awaiting_signatures"


def test_amending_back_to_the_signed_content_still_needs_new_signatures(at: Clock) -> None:
    doc = new_doc(at)
    sign_all(doc, at)
    doc.amend({"mileage_km": 12400}, reason="改", actor="clerk1", at=at())
    doc.amend({"mileage_km": 12345}, reason="改回", actor="clerk1", at=at())
    # Same bytes as when signed, but signed before two amendments: not current.
    assert doc.content_hash == content_hash("work_order", "WO-1", fields())
    assert doc.current_signatures() == []


def test_signing_again_after_amendment_makes_the_role_current(at: Clock) -> None:
    doc = new_doc(at)
    sign_all(doc, at)
    doc.amend({"mileage_km": 12400}, reason="抄错里程", actor="clerk1", at=at())
    doc.sign("service_advisor", "zhangsan", actor="zhangsan", at=at())
    assert doc.signed_roles() == {"service_advisor"}
    assert doc.missing_roles(WORK_ORDER_SIGNERS) == ["technician", "customer"]
    (current,) = doc.current_signatures()
    assert current.content_hash == doc.content_hash
    assert current.content_hash != doc.signatures[0].content_hash


def test_same_signer_cannot_sign_the_same_version_twice(at: Clock) -> None:
    doc = new_doc(at)
    doc.sign("technician", "lisi", actor="lisi", at=at())
    code = rule_code(lambda: doc.sign("technician", "lisi", actor="lisi", at=at()))
    assert code == "already_signed"
    # A second technician may sign in the same role.
    doc.sign("technician", "wangwu", actor="wangwu", at=at())
    assert len(doc.current_signatures()) == 2


def test_refusal_is_recorded(at: Clock) -> None:
    doc = new_doc(at)
    doc.refuse("customer", reason="金额不对", actor="clerk1", at=at())
    (refusal,) = doc.refusals
    assert refusal.role == "customer" and refusal.reason == "金额不对"
    assert refusal.signer == "clerk1" and refusal.version == 2
    assert doc.status(WORK_ORDER_SIGNERS) == "awaiting_signatures"


# -- void ------------------------------------------------------------------------------------


def test_void_blocks_every_change(at: Clock) -> None:
    doc = new_doc(at)
    doc.attach_scan(SHA_A, "application/pdf", 10, "a.pdf", "原件", actor="clerk1", at=at())
    doc.void(reason="重复录入", actor="clerk1", at=at())
    assert doc.status(WORK_ORDER_SIGNERS) == "voided"
    assert doc.voided is not None and doc.voided["reason"] == "重复录入"
    version = doc.version
    calls = [
        lambda: doc.amend({"model": "凯美瑞"}, reason="x", actor="clerk1", at=at()),
        lambda: doc.attach_scan(SHA_B, "image/png", 5, "b.png", "照片", actor="c", at=at()),
        lambda: doc.sign("technician", "lisi", actor="lisi", at=at()),
        lambda: doc.refuse("customer", reason="x", actor="clerk1", at=at()),
        lambda: doc.void(reason="again", actor="clerk1", at=at()),
        lambda: doc.submit("CLAIM-1", actor="clerk1", at=at()),
    ]
    for call in calls:
        assert rule_code(call) == "voided"
    assert doc.version == version


def test_void_blocks_withdrawing_a_scan(at: Clock) -> None:
    doc = new_doc(at)
    doc.attach_scan(SHA_A, "application/pdf", 10, "a.pdf", "原件", actor="clerk1", at=at())
    doc.void(reason="重复录入", actor="clerk1", at=at())
    assert rule_code(lambda: doc.withdraw_scan(SHA_A, "x", actor="clerk1", at=at())) == "voided"


# -- scans -----------------------------------------------------------------------------------


def attach(doc: Document, at: Clock, sha: str = SHA_A) -> None:
    doc.attach_scan(sha, "application/pdf", 2048, "委托书.pdf", "原件", actor="clerk1", at=at())


def test_scan_cannot_be_attached_twice_while_active(at: Clock) -> None:
    doc = new_doc(at)
    attach(doc, at)
    assert rule_code(lambda: attach(doc, at)) == "duplicate_scan"
    attach(doc, at, SHA_B)  # a different scan is fine
    assert [s.sha256 for s in doc.active_scans()] == [SHA_A, SHA_B]


def test_scan_withdrawn_once_then_reattached(at: Clock) -> None:
    doc = new_doc(at)
    attach(doc, at)
    moment = at()
    doc.withdraw_scan(SHA_A, reason="扫错了", actor="clerk2", at=moment)
    assert doc.active_scan(SHA_A) is None
    assert doc.active_scans() == []
    withdrawn = doc.scans[0]
    assert not withdrawn.active
    assert (withdrawn.withdrawn_by, withdrawn.withdrawn_at, withdrawn.withdrawn_reason) == (
        "clerk2",
        moment,
        "扫错了",
    )
    code = rule_code(lambda: doc.withdraw_scan(SHA_A, reason="再撤", actor="clerk2", at=at()))
    assert code == "no_such_scan"
    attach(doc, at)  # after withdrawal the same scan may come back
    assert len(doc.scans) == 2
    assert [s.active for s in doc.scans] == [False, True]
    assert doc.active_scan(SHA_A) is doc.scans[1]


def test_withdrawing_an_unknown_scan_is_refused(at: Clock) -> None:
    doc = new_doc(at)
    assert rule_code(lambda: doc.withdraw_scan(SHA_B, "x", actor="c", at=at())) == "no_such_scan"


def test_scan_records_who_and_when(at: Clock) -> None:
    doc = new_doc(at)
    moment = at()
    doc.attach_scan(SHA_A, "image/jpeg", 99, "p.jpg", "照片", actor="clerk1", at=moment)
    (scan,) = doc.scans
    assert (scan.sha256, scan.media_type, scan.size, scan.filename, scan.label) == (
        SHA_A,
        "image/jpeg",
        99,
        "p.jpg",
        "照片",
    )
    assert scan.attached_by == "clerk1" and scan.attached_at == moment and scan.version == 2


# -- submission ------------------------------------------------------------------------------


def test_submit_once_only(at: Clock) -> None:
    doc = Document.file("warranty_claim", "WC-1", fields(), actor="clerk1", at=at())
    doc.submit("MFR-2026-001", actor="clerk1", at=at())
    assert doc.submission is not None and doc.submission["claim_no"] == "MFR-2026-001"
    assert doc.status([]) == "submitted"
    # A signature still owed outranks the submission: the claim keeps showing what is owed.
    assert doc.status(["technician"]) == "awaiting_signatures"
    with pytest.raises(RuleError) as caught:
        doc.submit("MFR-2026-002", actor="clerk1", at=at())
    assert caught.value.code == "already_submitted"
    assert "MFR-2026-001" in caught.value.message_zh
    assert doc.submission["claim_no"] == "MFR-2026-001"


# -- replay ----------------------------------------------------------------------------------


def test_replaying_the_events_gives_the_same_state(at: Clock) -> None:
    doc = new_doc(at)
    sign_all(doc, at)
    attach(doc, at)
    doc.withdraw_scan(SHA_A, reason="扫错了", actor="clerk1", at=at())
    attach(doc, at, SHA_B)
    doc.amend({"mileage_km": 12400, "customer_name": None}, reason="改", actor="clerk1", at=at())
    doc.sign("technician", "lisi", actor="lisi", at=at())
    doc.refuse("customer", reason="不同意", actor="clerk1", at=at())
    rebuilt = replay(doc)
    assert rebuilt.id == doc.id and rebuilt.version == doc.version
    assert rebuilt.fields == doc.fields
    assert rebuilt.content_version == doc.content_version
    assert rebuilt.scans == doc.scans
    assert rebuilt.signatures == doc.signatures
    assert rebuilt.refusals == doc.refusals
    assert rebuilt.signed_roles() == {"technician"}
    assert rebuilt.status(WORK_ORDER_SIGNERS) == "awaiting_signatures"


# -- Staff -----------------------------------------------------------------------------------


def register(at: Clock, **overrides: Any) -> Staff:
    args: dict[str, Any] = {
        "username": "zhaoliu",
        "name": "赵六",
        "roles": ["clerk"],
        "registration_no": None,
        "phone": "13800138000",
        "actor": "admin",
        "at": at(),
    }
    args.update(overrides)
    return Staff.register(**args)


def test_register_staff(at: Clock) -> None:
    staff = register(at)
    assert staff.id == Staff.create_id("zhaoliu")
    assert Staff.create_id("zhaoliu") != Staff.create_id("zhaoliu2")
    assert (staff.username, staff.name, staff.roles) == ("zhaoliu", "赵六", ["clerk"])
    assert staff.active and staff.deactivated is None
    assert staff.registered_by == "admin"
    assert not staff.is_registered_clerk  # a clerk without 备案 number


def test_change_roles(at: Clock) -> None:
    staff = register(at)
    staff.change_roles(["clerk", "auditor"], registration_no="BA-2026-01", actor="admin", at=at())
    assert staff.roles == ["clerk", "auditor"]
    assert staff.registration_no == "BA-2026-01"
    assert staff.is_registered_clerk
    staff.change_roles(["auditor"], registration_no="BA-2026-01", actor="admin", at=at())
    assert not staff.is_registered_clerk  # registered, but no longer a clerk
    assert replay(staff).roles == ["auditor"]


def test_deactivate_once(at: Clock) -> None:
    staff = register(at)
    staff.deactivate(reason="离职", actor="admin", at=at())
    assert not staff.active
    assert staff.deactivated is not None and staff.deactivated["reason"] == "离职"
    version = staff.version
    assert rule_code(lambda: staff.deactivate(reason="again", actor="admin", at=at())) == (
        "staff_inactive"
    )
    assert rule_code(lambda: staff.change_roles(["clerk"], None, actor="admin", at=at())) == (
        "staff_inactive"
    )
    assert rule_code(lambda: staff.set_password("hash", actor="admin", at=at())) == "staff_inactive"
    assert staff.version == version
    assert replay(staff).active is False


def test_set_password(at: Clock) -> None:
    staff = register(at)
    staff.set_password("argon2-hash", actor="zhaoliu", at=at())
    assert staff.password_hash == "argon2-hash"
