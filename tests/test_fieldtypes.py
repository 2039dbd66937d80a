"""Field-type parsers (archive/kinds/fieldtypes.py): what a person or a DMS typed -> a value."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from archive.kinds.fieldtypes import (
    Boolean,
    Choice,
    Column,
    Context,
    Date,
    DateTime,
    DecimalNumber,
    Integer,
    Invalid,
    Lines,
    LinesInvalid,
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

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def ctx() -> Context:
    people = [
        StaffInfo("zhangsan", "张三", ("service_advisor",), True),
        StaffInfo("lisi", "李四", ("technician",), True),
        StaffInfo("wangwu", "王五", ("technician", "workshop_lead"), True),
        StaffInfo("liuyang1", "刘洋", ("technician",), True),
        StaffInfo("liuyang2", "刘洋", ("technician",), True),
        StaffInfo("zhaoliu", "赵六", ("clerk",), True, registration_no="BA-001"),
    ]
    return Context(staff={p.username: p for p in people})


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def assert_invalid(field_type, raw, ctx: Context) -> Invalid:
    with pytest.raises(Invalid) as caught:
        field_type.parse(raw, ctx)
    error = caught.value
    assert has_cjk(error.message_zh)  # a message for people
    assert error.message_en
    return error


# -- Money / DecimalNumber -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥1,234.5", "1234.50"),
        ("￥88元", "88.00"),
        ("1，234.56", "1234.56"),
        (" 0 ", "0.00"),
        ("10000000", "10000000.00"),
        (120, "120.00"),
        (Decimal("7.1"), "7.10"),
        (12.5, "12.50"),
        # Decimal(19.99) would be 19.98999999999999843...; the parser must use the short repr.
        (19.99, "19.99"),
        (0.1, "0.10"),
    ],
)
def test_money_is_decimal_with_two_places(ctx: Context, raw, expected: str) -> None:
    value = Money().parse(raw, ctx)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)
    assert str(value) == expected  # quantised: always exactly two places


@pytest.mark.parametrize(
    "raw",
    [
        "-0.01",
        "-5",
        "¥-1",
        "12.345",
        "0.001",
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        float("nan"),
        float("inf"),
        0.1 + 0.2,  # 0.30000000000000004: more than two places, not silently rounded
        "abc",
        "1.2.3",
        "10000000.01",
        True,
        [1],
    ],
)
def test_money_refused(ctx: Context, raw) -> None:
    assert_invalid(Money(), raw, ctx)


def test_money_negative_message(ctx: Context) -> None:
    error = assert_invalid(Money(), "-5", ctx)
    assert "负" in error.message_zh and "negative" in error.message_en


def test_money_three_decimals_message(ctx: Context) -> None:
    error = assert_invalid(Money(), "1.005", ctx)
    assert "2 位小数" in error.message_zh


def test_money_negative_zero_is_plain_zero(ctx: Context) -> None:
    value = Money().parse("-0", ctx)
    assert str(value) == "0.00"


def test_money_accepts_trailing_zero_places(ctx: Context) -> None:
    # DMS exports (SQL Server ``money``) print four places; 120.5000 is still 120.50 yuan.
    assert Money().parse("120.5000", ctx) == Decimal("120.50")


def test_decimal_number_places(ctx: Context) -> None:
    hours = DecimalNumber(places=1, maximum=Decimal(1000))
    assert str(hours.parse("1.5", ctx)) == "1.5"
    assert str(hours.parse("2", ctx)) == "2.0"
    assert_invalid(hours, "1.25", ctx)
    assert_invalid(hours, "1000.1", ctx)


# -- Integer / Mileage -----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("12,345", 12345), (" 7 ", 7), (42, 42), ("+3", 3)])
def test_integer_parses(ctx: Context, raw, expected: int) -> None:
    assert Integer().parse(raw, ctx) == expected


@pytest.mark.parametrize("raw", ["12.5", "abc", "", "1e3", True, "-1", 12.5])
def test_integer_refused(ctx: Context, raw) -> None:
    assert_invalid(Integer(), raw, ctx)


def test_integer_range(ctx: Context) -> None:
    score = Integer(minimum=1, maximum=5)
    assert score.parse("1", ctx) == 1
    assert score.parse("5", ctx) == 5
    assert_invalid(score, "0", ctx)
    assert_invalid(score, "6", ctx)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12,345 km", 12345),
        ("12,345km", 12345),
        ("12345 KM", 12345),
        ("8000公里", 8000),
        ("8000 千米", 8000),
        ("0", 0),
        (56789, 56789),
    ],
)
def test_mileage_parses(ctx: Context, raw, expected: int) -> None:
    assert Mileage().parse(raw, ctx) == expected


@pytest.mark.parametrize("raw", ["-5", "-12,345 km", -1])
def test_mileage_negative_refused(ctx: Context, raw) -> None:
    error = assert_invalid(Mileage(), raw, ctx)
    assert "负" in error.message_zh and "negative" in error.message_en


@pytest.mark.parametrize("raw", ["12.5 km", "abc km", "3000001", "km"])
def test_mileage_other_refusals(ctx: Context, raw) -> None:
    assert_invalid(Mileage(), raw, ctx)


# -- Date / DateTime -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-03",
        "2026/11/3",
        "2026/11/03",
        "2026年11月3日",
        "2026.11.03",
        "20261103",
        " 2026-11-03 ",
    ],
)
def test_date_formats(ctx: Context, raw: str) -> None:
    assert Date().parse(raw, ctx) == date(2026, 11, 3)


def test_date_objects_pass_through(ctx: Context) -> None:
    assert Date().parse(date(2026, 11, 3), ctx) == date(2026, 11, 3)
    assert Date().parse(datetime(2026, 11, 3, 9, 0, tzinfo=SHANGHAI), ctx) == date(2026, 11, 3)


def test_leap_day(ctx: Context) -> None:
    assert Date().parse("2024-02-29", ctx) == date(2024, 2, 29)
    assert_invalid(Date(), "2025-02-29", ctx)


@pytest.mark.parametrize(
    "raw",
    ["2026-02-30", "2026-13-01", "2026年2月30日", "03/11/2026", "明天", "1989-12-31", 20261103],
)
def test_date_refused(ctx: Context, raw) -> None:
    assert_invalid(Date(), raw, ctx)


def test_date_from_datetime_checks_the_year(ctx: Context) -> None:
    assert_invalid(Date(), datetime(1800, 1, 1, 12, 0), ctx)


def test_datetime_without_zone_is_shanghai(ctx: Context) -> None:
    value = DateTime().parse("2026-11-03 14:30", ctx)
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(hours=8)
    # 14:30 in Beijing is 06:30 UTC.
    assert value == datetime(2026, 11, 3, 6, 30, tzinfo=UTC)


def test_datetime_t_separator_and_slashes(ctx: Context) -> None:
    expected = datetime(2026, 11, 3, 6, 30, tzinfo=UTC)
    assert DateTime().parse("2026-11-03T14:30", ctx) == expected
    assert DateTime().parse("2026/11/03 14:30", ctx) == expected


def test_datetime_accepts_single_digit_month_day_like_date(ctx: Context) -> None:
    # Date accepts 2026/11/3; the same clerk typing a time after it should not be refused.
    expected = datetime(2026, 11, 3, 6, 30, tzinfo=UTC)
    assert DateTime().parse("2026/11/3 14:30", ctx) == expected


def test_datetime_with_zone_keeps_the_instant(ctx: Context) -> None:
    value = DateTime().parse("2026-11-03T14:30:00+00:00", ctx)
    assert value == datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
    assert value.utcoffset() == timedelta(0)


def test_naive_datetime_object_becomes_local(ctx: Context) -> None:
    value = DateTime().parse(datetime(2026, 11, 3, 14, 30, 15, 999), ctx)
    assert value == datetime(2026, 11, 3, 6, 30, 15, tzinfo=UTC)
    assert value.microsecond == 0


def test_datetime_uses_the_context_zone() -> None:
    berlin = Context(tz=ZoneInfo("Europe/Berlin"))
    # 3 November 2026 is winter time in Berlin: UTC+1.
    assert DateTime().parse("2026-11-03 14:30", berlin) == datetime(2026, 11, 3, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["昨天下午", "2026-11-03 25:00", "1980-01-01 10:00", 1700000000])
def test_datetime_refused(ctx: Context, raw) -> None:
    assert_invalid(DateTime(), raw, ctx)


# -- Choice / Boolean ------------------------------------------------------------------------

REPAIR = Choice(options=(("maintenance", "保养"), ("repair", "一般维修"), ("warranty", "三包")))


@pytest.mark.parametrize(
    ("raw", "code"),
    [("maintenance", "maintenance"), ("保养", "maintenance"), (" 三包 ", "warranty")],
)
def test_choice_code_or_label(ctx: Context, raw: str, code: str) -> None:
    assert REPAIR.parse(raw, ctx) == code


def test_choice_refused_lists_the_options(ctx: Context) -> None:
    error = assert_invalid(REPAIR, "洗车", ctx)
    assert "保养" in error.message_zh and "一般维修" in error.message_zh
    assert "maintenance" in error.message_en
    assert_invalid(REPAIR, "Maintenance", ctx)


@pytest.mark.parametrize("raw", ["是", "true", "TRUE", "True", "1", 1, True, "yes", "√", "合格"])
def test_boolean_true(ctx: Context, raw) -> None:
    assert Boolean().parse(raw, ctx) is True


@pytest.mark.parametrize("raw", ["否", "false", "FALSE", "0", 0, False, "no", "×", "不合格"])
def test_boolean_false(ctx: Context, raw) -> None:
    assert Boolean().parse(raw, ctx) is False


@pytest.mark.parametrize("raw", ["也许", "2", "yess", 2])
def test_boolean_refused(ctx: Context, raw) -> None:
    assert_invalid(Boolean(), raw, ctx)


# -- identifiers as field types ----------------------------------------------------------------


def test_vin_field_upper_cases_and_strips_spaces(ctx: Context) -> None:
    assert Vin().parse(" 1m8gdm9axkp 042788 ", ctx) == "1M8GDM9AXKP042788"
    error = assert_invalid(Vin(), "LSVAM4187C2184825", ctx)
    assert "8" in error.message_zh


def test_plate_field_normalises(ctx: Context) -> None:
    assert Plate().parse("粤B·D12345", ctx) == "粤BD12345"
    assert_invalid(Plate(), "京I12345", ctx)


def test_phone_field_normalises(ctx: Context) -> None:
    assert Phone().parse("+86 138-0013-8000", ctx) == "13800138000"
    assert_invalid(Phone(), "12345678901", ctx)


# -- staff -----------------------------------------------------------------------------------


def test_staff_ref_by_username_or_name(ctx: Context) -> None:
    advisor = StaffRef(role="service_advisor")
    assert advisor.parse("zhangsan", ctx) == "zhangsan"
    assert advisor.parse(" 张三 ", ctx) == "zhangsan"


def test_staff_ref_unknown_person(ctx: Context) -> None:
    error = assert_invalid(StaffRef(), "孙七", ctx)
    assert "孙七" in error.message_zh


def test_staff_ref_ambiguous_name_needs_the_username(ctx: Context) -> None:
    assert_invalid(StaffRef(role="technician"), "刘洋", ctx)
    assert StaffRef(role="technician").parse("liuyang2", ctx) == "liuyang2"


def test_staff_ref_person_without_the_role(ctx: Context) -> None:
    error = assert_invalid(StaffRef(role="service_advisor"), "李四", ctx)
    assert "服务顾问" in error.message_zh  # the role's Chinese name
    assert "service_advisor" in error.message_en
    # Without a role requirement anyone known will do.
    assert StaffRef().parse("李四", ctx) == "lisi"


@pytest.mark.parametrize(
    "raw",
    ["李四、王五", "李四,王五", "李四，王五", "李四；王五", "lisi wangwu", ["李四", "wangwu"]],
)
def test_staff_list_separators(ctx: Context, raw) -> None:
    assert StaffList(role="technician").parse(raw, ctx) == ["lisi", "wangwu"]


def test_staff_list_deduplicates_keeping_order(ctx: Context) -> None:
    assert StaffList().parse("王五、李四、wangwu、李四", ctx) == ["wangwu", "lisi"]


def test_staff_list_refusals(ctx: Context) -> None:
    technicians = StaffList(role="technician")
    error = assert_invalid(technicians, "李四、张三", ctx)  # 张三 is no technician
    assert "张三" in error.message_zh
    assert_invalid(technicians, "李四、孙七", ctx)
    assert_invalid(technicians, "、 ,", ctx)  # separators only: nobody named


# -- Lines -----------------------------------------------------------------------------------

LABOUR = Lines(
    columns=(
        Column("description", "项目", "description", Text(max_length=200), required=True),
        Column("hours", "工时", "hours", DecimalNumber(places=1, maximum=Decimal(1000))),
        Column("amount", "金额（元）", "amount", Money(), required=True),
    )
)
EXPECTED_LINES = [
    {"description": "更换机油", "hours": Decimal("0.5"), "amount": Decimal("80.00")},
    {"description": "四轮定位", "hours": Decimal("1.0"), "amount": Decimal("120.50")},
]


def test_lines_from_a_list(ctx: Context) -> None:
    rows = [
        {"description": "更换机油", "hours": "0.5", "amount": "80"},
        {"description": "四轮定位", "hours": 1, "amount": "¥120.5"},
    ]
    assert LABOUR.parse(rows, ctx) == EXPECTED_LINES


def test_lines_from_json_text(ctx: Context) -> None:
    text = json.dumps(
        [
            {"description": "更换机油", "hours": 0.5, "amount": 80},
            {"description": "四轮定位", "hours": "1", "amount": "120.50"},
        ],
        ensure_ascii=False,
    )
    assert LABOUR.parse(text, ctx) == EXPECTED_LINES


def test_lines_from_pipe_text(ctx: Context) -> None:
    assert LABOUR.parse("更换机油|0.5|80;四轮定位|1|120.5", ctx) == EXPECTED_LINES
    # Full-width semicolon and new lines separate lines too.
    assert LABOUR.parse("更换机油 | 0.5 | 80；\n四轮定位|1|120.5\n", ctx) == EXPECTED_LINES


def test_lines_optional_trailing_cells_may_be_left_out(ctx: Context) -> None:
    lines = Lines(columns=(LABOUR.columns[0], LABOUR.columns[2], LABOUR.columns[1]))
    assert lines.parse("洗车|30", ctx) == [{"description": "洗车", "amount": Decimal("30.00")}]


def test_blank_lines_are_ignored(ctx: Context) -> None:
    assert LABOUR.parse("更换机油|0.5|80;;||;四轮定位|1|120.5", ctx) == EXPECTED_LINES
    rows = [
        {"description": "更换机油", "hours": "0.5", "amount": "80"},
        {"description": "", "hours": " ", "amount": None},
        {},
        {"description": "四轮定位", "hours": "1", "amount": "120.5"},
    ]
    assert LABOUR.parse(rows, ctx) == EXPECTED_LINES


def test_lines_report_every_bad_cell_with_its_path(ctx: Context) -> None:
    rows = [
        {"description": "更换机油", "hours": "半小时", "amount": "80"},
        {"description": "", "hours": "1", "amount": "-5"},
        {"description": "洗车", "amount": "30"},
    ]
    with pytest.raises(LinesInvalid) as caught:
        LABOUR.parse(rows, ctx)
    problems = caught.value.problems
    assert {path for path, _, _ in problems} == {"1.hours", "2.description", "2.amount"}
    for _path, zh, en in problems:
        assert has_cjk(zh) and en
    by_path = {path: (zh, en) for path, zh, en in problems}
    assert by_path["2.description"][0].startswith("项目")
    assert "negative" in by_path["2.amount"][1]


def test_lines_pipe_text_errors_have_paths(ctx: Context) -> None:
    with pytest.raises(LinesInvalid) as caught:
        LABOUR.parse("更换机油|0.5|80;四轮定位|1|12.345", ctx)
    assert [p[0] for p in caught.value.problems] == ["2.amount"]


def test_lines_unknown_column_reported(ctx: Context) -> None:
    with pytest.raises(LinesInvalid) as caught:
        LABOUR.parse([{"description": "洗车", "amount": "30", "colour": "红"}], ctx)
    assert [p[0] for p in caught.value.problems] == ["1"]
    assert "colour" in caught.value.problems[0][1]


def test_lines_too_many_columns(ctx: Context) -> None:
    error = assert_invalid(LABOUR, "洗车|0.5|30|多余", ctx)
    assert not isinstance(error, LinesInvalid)
    assert "3" in error.message_zh


def test_lines_too_many_lines(ctx: Context) -> None:
    two = Lines(columns=LABOUR.columns, max_lines=2)
    assert len(two.parse("a|1|1;b|1|1", ctx)) == 2
    assert_invalid(two, "a|1|1;b|1|1;c|1|1", ctx)


@pytest.mark.parametrize("raw", ["[{", "[1, 2]", '["a"]'])
def test_lines_bad_json(ctx: Context, raw: str) -> None:
    assert_invalid(LABOUR, raw, ctx)


# -- Text ------------------------------------------------------------------------------------


def test_text_max_length_counts_characters(ctx: Context) -> None:
    five = Text(max_length=5)
    assert five.parse("一二三四五", ctx) == "一二三四五"
    assert five.parse("  一二三四五  ", ctx) == "一二三四五"  # surrounding blanks do not count
    error = assert_invalid(five, "一二三四五六", ctx)
    assert "5" in error.message_zh and "6" in error.message_zh


def test_text_keeps_newlines_and_tabs(ctx: Context) -> None:
    assert Text(multiline=True).parse("异响\n\t左前轮", ctx) == "异响\n\t左前轮"


@pytest.mark.parametrize("raw", ["异响\x00", "\x1b[31m红字", "a\x07b", "a\x08b"])
def test_text_refuses_control_characters(ctx: Context, raw: str) -> None:
    assert_invalid(Text(multiline=True), raw, ctx)


def test_text_accepts_crlf_from_web_forms(ctx: Context) -> None:
    # Browsers submit <textarea> line breaks as CRLF (HTML form submission normalises to it).
    value = Text(multiline=True).parse("左前轮异响\r\n低速时明显", ctx)
    assert value.replace("\r\n", "\n") == "左前轮异响\n低速时明显"


def test_text_refuses_del(ctx: Context) -> None:
    assert_invalid(Text(), "a\x7fb", ctx)


def test_text_refuses_c1_controls(ctx: Context) -> None:
    # U+0080..U+009F are control characters too (U+009B is the terminal escape CSI).
    assert_invalid(Text(), "a\x9b31mb", ctx)


def test_text_refuses_non_text(ctx: Context) -> None:
    assert_invalid(Text(), ["a"], ctx)
    assert_invalid(Text(), {"a": 1}, ctx)
    assert Text().parse(12, ctx) == "12"
