"""Whole-document validation against the registry (archive/kinds/validation.py, registry.py)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from archive.errors import ValidationFailed
from archive.kinds.fieldtypes import (
    Boolean,
    Choice,
    Context,
    Date,
    DateTime,
    DecimalNumber,
    FieldType,
    Integer,
    Lines,
    Mileage,
    Money,
    Phone,
    Plate,
    StaffInfo,
    StaffList,
    StaffRef,
    Text,
    Vin,
)
from archive.kinds.registry import KINDS, Kind, UnknownKind, get_kind
from archive.kinds.roles import ROLE_LABELS, STAFF_ROLES
from archive.kinds.validation import check_number, number_problem, parse_fields, validate_document

WORK_ORDER = KINDS["work_order"]


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def person_for(role: str) -> StaffInfo:
    return StaffInfo(f"{role}_1", f"{ROLE_LABELS[role]}甲", (role,), True)


@pytest.fixture
def ctx() -> Context:
    people = [person_for(role) for role in STAFF_ROLES]
    people.append(StaffInfo("laoli", "老李", ("technician", "workshop_lead"), True))
    people.append(StaffInfo("xiaozhang", "小张", ("service_advisor",), True))
    return Context(staff={p.username: p for p in people})


# -- a generator of valid raw input, driven by each field's declared type -------------------


def sample_raw(field_type: FieldType, *, all_columns: bool = False) -> Any:
    """A raw value (as a person would type it) that ``field_type`` must accept."""
    if isinstance(field_type, Vin):
        return "LSVAM4188C2184825"
    if isinstance(field_type, Plate):
        return "粤B·D12345"
    if isinstance(field_type, Phone):
        return "+86 138 0013 8000"
    if isinstance(field_type, Mileage):
        return "12,345 km"
    if isinstance(field_type, Integer):
        return str(field_type.minimum)
    if isinstance(field_type, Money):
        return "¥1,234.5"
    if isinstance(field_type, DecimalNumber):
        return "1"
    if isinstance(field_type, DateTime):
        return "2026-11-03 14:30"
    if isinstance(field_type, Date):
        return "2026年11月3日"
    if isinstance(field_type, Choice):
        return field_type.options[-1][1]  # the Chinese label of the last option
    if isinstance(field_type, Boolean):
        return "是"
    if isinstance(field_type, StaffRef):
        return person_for(field_type.role).name if field_type.role else "老李"
    if isinstance(field_type, StaffList):
        return person_for(field_type.role).username if field_type.role else "老李、小张"
    if isinstance(field_type, Lines):
        row = {
            column.code: sample_raw(column.type)
            for column in field_type.columns
            if column.required or all_columns
        }
        return [row]
    if isinstance(field_type, Text):
        return "测试内容"[: field_type.max_length]
    raise AssertionError(f"no sample for {type(field_type).__name__}: extend the generator")


def expected_python_type(field_type: FieldType) -> type | tuple[type, ...]:
    if isinstance(field_type, DateTime):
        return datetime
    if isinstance(field_type, Date):
        return date
    if isinstance(field_type, DecimalNumber):
        return Decimal
    if isinstance(field_type, Boolean):
        return bool
    if isinstance(field_type, Integer):
        return int
    if isinstance(field_type, (StaffList, Lines)):
        return list
    return str


@pytest.mark.parametrize("code", list(KINDS))
def test_minimal_valid_document_of_every_kind(code: str, ctx: Context) -> None:
    kind = KINDS[code]
    data = {f.code: sample_raw(f.type) for f in kind.fields if f.required}
    assert "business_date" in data  # every kind has a business date deciding its month
    number, values = validate_document(kind, " NO-2026.001_a ", data, ctx)
    assert number == "NO-2026.001_a"
    assert set(values) == set(data)
    for f in kind.fields:
        if f.required:
            assert isinstance(values[f.code], expected_python_type(f.type)), f.code


@pytest.mark.parametrize("code", list(KINDS))
def test_full_document_of_every_kind(code: str, ctx: Context) -> None:
    kind = KINDS[code]
    data = {f.code: sample_raw(f.type, all_columns=True) for f in kind.fields}
    _, values = validate_document(kind, "FULL1", data, ctx)
    assert set(values) == {f.code for f in kind.fields}
    for f in kind.fields:
        assert isinstance(values[f.code], expected_python_type(f.type)), f.code
        if isinstance(f.type, DateTime):
            assert values[f.code].tzinfo is not None


@pytest.mark.parametrize("code", list(KINDS))
def test_empty_document_reports_each_required_field(code: str, ctx: Context) -> None:
    kind = KINDS[code]
    with pytest.raises(ValidationFailed) as caught:
        validate_document(kind, "", {}, ctx)
    reported = [p.field for p in caught.value.problems]
    assert sorted(reported) == sorted(["number"] + [f.code for f in kind.fields if f.required])


@pytest.mark.parametrize("code", list(KINDS))
def test_kind_declarations_are_coherent(code: str) -> None:
    kind = KINDS[code]
    assert kind.code == code
    assert get_kind(code) is kind
    codes = [f.code for f in kind.fields]
    assert len(codes) == len(set(codes)), "a field code is declared twice"
    assert kind.signers, "every kind needs at least one signer"
    assert len(kind.signers) == len(set(kind.signers))
    for role in kind.signers:
        assert role in ROLE_LABELS, role
        assert role == "customer" or role in STAFF_ROLES
    assert has_cjk(kind.label) and has_cjk(kind.number_label) and kind.label_en
    for f in kind.fields:
        assert has_cjk(f.label) and f.label_en, f.code
        if isinstance(f.type, Lines):
            assert f.type.columns
            assert len({c.code for c in f.type.columns}) == len(f.type.columns)
        if isinstance(f.type, (StaffRef, StaffList)) and f.type.role:
            assert f.type.role in STAFF_ROLES


# DOMAIN.md: "Common fields have one code everywhere"; each such code keeps one meaning.
COMMON_TYPES: dict[str, type[FieldType]] = {
    "business_date": Date,
    "vin": Vin,
    "plate": Plate,
    "mileage_km": Mileage,
    "customer_phone": Phone,
    "service_advisor": StaffRef,
    "technicians": StaffList,
    "service_fee": Money,
    "work_order_no": Text,
    "customer_name": Text,
    "fault_description": Text,
}


@pytest.mark.parametrize("code", list(KINDS))
def test_common_field_codes_keep_their_type(code: str) -> None:
    for f in KINDS[code].fields:
        if f.code in COMMON_TYPES:
            assert type(f.type) is COMMON_TYPES[f.code], f"{code}.{f.code}"


def test_domain_signers() -> None:
    # DOMAIN.md's table of required signers.
    assert set(KINDS["work_order"].signers) == {"service_advisor", "technician", "customer"}
    assert set(KINDS["warranty_claim"].signers) == {
        "technician",
        "claims_clerk",
        "service_manager",
        "customer",
    }
    assert set(KINDS["offsite_service"].signers) == {"clerk", "technician"}
    assert set(KINDS["daily_report"].signers) == {"clerk", "service_manager"}


def test_unknown_kind() -> None:
    with pytest.raises(UnknownKind) as caught:
        get_kind("invoice")
    assert "invoice" in caught.value.message_en and has_cjk(caught.value.message_zh)


# -- work order: every problem at once --------------------------------------------------------


def test_work_order_reports_every_problem_at_once(ctx: Context) -> None:
    data = {
        "business_date": "2026-02-30",
        "vin": "LSVAM4187C2184825",  # check digit should be 8
        "plate": "京I12345",
        # "model" (required) is missing
        "mileage_km": "-5",
        "customer_name": "王先生",
        "customer_phone": "12345678901",
        "service_advisor": "technician_1",  # exists, but is no service advisor
        "technicians": "维修技师甲、孙七",  # 孙七 is unknown
        "repair_type": "洗车",
        "labour_lines": "换机油|0.5|80;检查|x|12.345",
        "settled_at": "下午三点",
        "colour": "红",  # no such field
    }
    with pytest.raises(ValidationFailed) as caught:
        validate_document(WORK_ORDER, "WO 2026/01", data, ctx)
    problems = caught.value.problems
    assert sorted(p.field for p in problems) == sorted(
        [
            "number",
            "colour",
            "business_date",
            "vin",
            "plate",
            "model",
            "mileage_km",
            "customer_phone",
            "service_advisor",
            "technicians",
            "repair_type",
            "labour_lines.2.hours",
            "labour_lines.2.amount",
            "settled_at",
        ]
    )
    for p in problems:
        assert p.message_zh and has_cjk(p.message_zh), p
        # English words (the message may quote what was typed, Chinese included).
        assert re.search(r"[A-Za-z]{3,} [A-Za-z]{2,}", p.message_en), p
        assert p.message_en != p.message_zh
        assert p.as_dict() == {
            "field": p.field,
            "message_zh": p.message_zh,
            "message_en": p.message_en,
        }
    by_field = {p.field: p for p in problems}
    assert "第 2 行" in by_field["labour_lines.2.amount"].message_zh
    assert "should be 8" in by_field["vin"].message_en
    assert by_field["model"].message_zh.startswith("车型")
    assert "colour" in by_field["colour"].message_en
    assert "维修委托书" in by_field["colour"].message_zh
    # The exception text names every field too.
    for p in problems:
        assert f"{p.field}:" in str(caught.value)


def test_work_order_valid_values_are_typed(ctx: Context) -> None:
    data = {
        "business_date": "2026/11/3",
        "vin": "1m8gdm9axkp042788",
        "plate": "京A 12345",
        "model": "卡罗拉",
        "mileage_km": "12,345 km",
        "customer_name": "王先生",
        "customer_phone": "138-0013-8000",
        "service_advisor": "小张",
        "technicians": "老李、维修技师甲",
        "repair_type": "保养",
        "labour_lines": "更换机油|0.5|80",
        "parts_lines": [{"part_no": "90915-YZZE1", "name": "机滤", "qty": "1", "amount": "45"}],
    }
    number, values = validate_document(WORK_ORDER, "WO-1", data, ctx)
    assert number == "WO-1"
    assert values["business_date"] == date(2026, 11, 3)
    assert values["vin"] == "1M8GDM9AXKP042788"
    assert values["plate"] == "京A12345"
    assert values["mileage_km"] == 12345
    assert values["customer_phone"] == "13800138000"
    assert values["service_advisor"] == "xiaozhang"
    assert values["technicians"] == ["laoli", "technician_1"]
    assert values["repair_type"] == "maintenance"
    assert values["labour_lines"] == [
        {"description": "更换机油", "hours": Decimal("0.5"), "amount": Decimal("80.00")}
    ]
    assert values["parts_lines"][0]["amount"] == Decimal("45.00")
    assert "settled_at" not in values  # empty optional fields are simply absent


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["WO1", "WO-2026.001_a", "2026110300001", "a" * 40, " WO1 "])
def test_number_accepted(number: str) -> None:
    assert number_problem(number, WORK_ORDER) is None
    assert check_number(number, WORK_ORDER) == number.strip()


@pytest.mark.parametrize(
    "number",
    ["", "   ", None, "WO 1", "WO/1", "-WO1", ".WO1", "a" * 41, "委托书1", "../x", 12345],
)
def test_number_refused(number: Any) -> None:
    problem = number_problem(number, WORK_ORDER)
    assert problem is not None
    assert problem.field == "number"
    assert WORK_ORDER.number_label in problem.message_zh
    with pytest.raises(ValidationFailed):
        check_number(number, WORK_ORDER)


# -- amendments (partial) --------------------------------------------------------------------


def test_partial_checks_only_the_given_fields(ctx: Context) -> None:
    values, problems = parse_fields(WORK_ORDER, {"model": "卡罗拉"}, ctx, partial=True)
    assert problems == []
    assert values == {"model": "卡罗拉"}


def test_partial_still_checks_given_values(ctx: Context) -> None:
    values, problems = parse_fields(
        WORK_ORDER, {"mileage_km": "23,456", "plate": "京I1"}, ctx, partial=True
    )
    assert values == {"mileage_km": 23456}
    assert [p.field for p in problems] == ["plate"]


@pytest.mark.parametrize("empty", ["", "  ", None, []])
def test_partial_empty_clears_an_optional_field(ctx: Context, empty: Any) -> None:
    values, problems = parse_fields(WORK_ORDER, {"plate": empty}, ctx, partial=True)
    assert problems == []
    assert values == {"plate": None}


@pytest.mark.parametrize("code", ["vin", "model", "service_advisor", "business_date"])
def test_partial_empty_refused_for_a_required_field(ctx: Context, code: str) -> None:
    values, problems = parse_fields(WORK_ORDER, {code: ""}, ctx, partial=True)
    assert values == {}
    assert [p.field for p in problems] == [code]
    assert has_cjk(problems[0].message_zh) and "required" in problems[0].message_en


def test_partial_unknown_field_reported(ctx: Context) -> None:
    _, problems = parse_fields(WORK_ORDER, {"colour": "红"}, ctx, partial=True)
    assert [p.field for p in problems] == ["colour"]


def test_full_parse_leaves_empty_optional_fields_out(ctx: Context) -> None:
    values, _ = parse_fields(WORK_ORDER, {"plate": ""}, ctx)
    assert "plate" not in values


def test_lines_problem_paths_in_a_kind(ctx: Context) -> None:
    kind: Kind = KINDS["warranty_claim"]
    _, problems = parse_fields(
        kind, {"parts": [{"part_no": "A1", "qty": "0"}, {"qty": "2"}]}, ctx, partial=True
    )
    assert sorted(p.field for p in problems) == ["parts.1.qty", "parts.2.part_no"]
