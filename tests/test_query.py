"""The query language, parsed into the engine-neutral tree."""

from __future__ import annotations

from datetime import date

import pytest

from projections.search.query import (
    AllOf,
    AnyOf,
    DateRange,
    Not,
    QueryError,
    Term,
    Text,
    parse,
)

HIDE_VOIDED = Not(Term("doc_voided", "yes"))


def test_words_and_filters_combine() -> None:
    query = parse("刹车 kind:warranty_claim kind:work_order month:2026-11 -flag:voided")
    assert query.where == AllOf(
        (
            Text("刹车"),
            AnyOf((Term("kind", "warranty_claim"), Term("kind", "work_order"))),
            Term("month", "2026-11"),
            Not(Term("flags", "voided")),
            HIDE_VOIDED,
        )
    )
    assert query.has_text and query.sort == "relevance"


def test_lookup_keys_as_clerks_type_them() -> None:
    assert parse("vin:042788").where.parts[0] == Term("vin6", "042788")
    assert parse("vin:KP042788").where.parts[0] == Term("vin8", "KP042788")
    assert parse("vin:1m8gdm9axkp042788").where.parts[0] == Term("vin", "1M8GDM9AXKP042788")
    assert parse("plate:京A12345").where.parts[0] == Term("plate", "京A12345")
    assert parse("plate:a12345").where.parts[0] == Term("plate_tail", "A12345")
    assert parse("plate:'粤B D12345'").where.parts[0] == Term("plate", "粤BD12345")
    assert parse("phone:8000").where.parts[0] == Term("phone4", "8000")
    assert parse("phone:138-0013-8000").where.parts[0] == Term("phone", "13800138000")


def test_chinese_aliases_and_date_ranges() -> None:
    query = parse("kind:三包索赔单 status:待签字 flag:签后修改", {"三包索赔单": "warranty_claim"})
    assert query.where.parts[:3] == (
        Term("kind", "warranty_claim"),
        Term("status", "awaiting_signatures"),
        Term("flags", "amended_after_signature"),
    )
    day = parse("date:2026-11-05").where.parts[0]
    assert day == DateRange("business_date", date(2026, 11, 5), date(2026, 11, 5))
    span = parse("date:2026-11-01..2026-11-15").where.parts[0]
    assert span == DateRange("business_date", date(2026, 11, 1), date(2026, 11, 15))
    open_end = parse("date:2026-11-01..").where.parts[0]
    assert open_end.end == date(2100, 1, 1)


def test_voided_are_hidden_unless_asked_for() -> None:
    assert HIDE_VOIDED in parse("刹车").where.parts
    assert HIDE_VOIDED not in parse("刹车 status:voided").where.parts
    assert HIDE_VOIDED not in parse("flag:作废").where.parts
    # Excluding voided documents explicitly does not bring them back.
    assert HIDE_VOIDED in parse("-status:voided").where.parts


def test_history_sort_and_empty_query() -> None:
    assert parse("刹车 history:yes").history is True
    assert parse("刹车").history is False
    assert parse("刹车 sort:date").sort == "date"
    empty = parse("")
    assert empty.sort == "date" and not empty.has_text
    assert empty.where == AllOf((HIDE_VOIDED,))


@pytest.mark.parametrize(
    "text",
    [
        "vin:12345",
        "phone:12",
        "month:11-2026",
        "date:2026-13-01",
        "date:2026-11-15..2026-11-01",
        "status:lost",
        "flag:odd",
        "colour:red",
        "kind:",
        '"unbalanced',
        "sort:random",
    ],
)
def test_bad_queries_say_what_to_fix(text: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.message_zh and caught.value.message_en
