"""VIN, plate and mobile-number checks (archive/kinds/identifiers.py)."""

from __future__ import annotations

import pytest

from archive.kinds.identifiers import (
    mobile_ok,
    normalize_phone,
    normalize_plate,
    plate_ok,
    vin_check_digit,
    vin_problem,
    with_check_digit,
)

# -- an independent ISO 3779 check digit, written from the standard's tables ---------------

# ISO 3779 Annex / 49 CFR 565.15 transliteration: letter -> value (I, O, Q are never used).
_ISO_LETTER_VALUES = {
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
# Position weights 1..17; position 9 (the check digit itself) weighs 0.
_ISO_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def iso3779_check(vin: str) -> str:
    total = 0
    for position, char in enumerate(vin):
        value = int(char) if char.isdigit() else _ISO_LETTER_VALUES[char]
        total += value * _ISO_WEIGHTS[position]
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


# Worked by hand (sum of value x weight, then mod 11):
#   1M8GDM9AXKP042788: 8+28+48+35+16+12+18+10+0+18+56+0+24+10+28+24+16 = 351; 351 % 11 = 10 -> X
#   LSVAM4187C2184825: 24+14+30+5+16+12+2+80+0+27+16+7+48+20+32+6+10 = 349; 349 % 11 = 8
#   11111111111111111: sum of the weights = 89; 89 % 11 = 1
HAND_COMPUTED = {
    "1M8GDM9AXKP042788": "X",
    "LSVAM4187C2184825": "8",
    "11111111111111111": "1",
}


@pytest.mark.parametrize(("vin", "expected"), HAND_COMPUTED.items())
def test_check_digit_matches_hand_computation(vin: str, expected: str) -> None:
    assert iso3779_check(vin) == expected  # the test's own reference agrees with the hand sums
    assert vin_check_digit(vin) == expected


@pytest.mark.parametrize(
    "vin",
    ["LFV2A21K6B3000001", "LGBH52E07JY123456", "WDDGF8AB1EA912345", "JTDBR32E720123456"],
)
def test_check_digit_agrees_with_independent_reference(vin: str) -> None:
    assert vin_check_digit(vin) == iso3779_check(vin)


def test_valid_vin_with_x_check_digit() -> None:
    assert vin_problem("1M8GDM9AXKP042788") is None


def test_vin_with_wrong_check_digit_names_the_expected_one() -> None:
    problem = vin_problem("LSVAM4187C2184825")
    assert problem is not None
    zh, en = problem
    assert "8" in zh and "第 9 位" in zh
    assert "should be 8" in en
    assert vin_problem("LSVAM4188C2184825") is None


def test_wrong_digit_where_x_is_expected_says_x() -> None:
    problem = vin_problem("1M8GDM9A0KP042788")
    assert problem is not None
    assert "should be X" in problem[1]


def test_all_ones_is_valid() -> None:
    assert vin_problem("11111111111111111") is None


@pytest.mark.parametrize("vin", ["", "1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "LSVAM4188C218482"])
def test_vin_length_must_be_17(vin: str) -> None:
    problem = vin_problem(vin)
    assert problem is not None
    assert "17" in problem[0] and f"got {len(vin)}" in problem[1]


@pytest.mark.parametrize("letter", ["I", "O", "Q"])
def test_vin_refuses_i_o_q(letter: str) -> None:
    # Put the letter where a valid VIN has a digit, keeping length 17.
    vin = "LSVAM4188C2184825"
    bad = vin[:12] + letter + vin[13:]
    assert len(bad) == 17
    problem = vin_problem(bad)
    assert problem is not None
    assert letter in problem[0] and letter in problem[1]


@pytest.mark.parametrize(
    "vin",
    ["LSVAM4188C218482-", "LSVAM4188C21848 5", "lsvam4188c2184825", "LSVAM4188C218482京"],
)
def test_vin_refuses_non_alphanumeric_and_lower_case(vin: str) -> None:
    assert len(vin) == 17
    problem = vin_problem(vin)
    assert problem is not None
    assert "only digits and capital letters" in problem[1]


def test_with_check_digit_completes_a_vin() -> None:
    assert with_check_digit("LSVAM4180C2184825") == "LSVAM4188C2184825"
    assert with_check_digit("1M8GDM9A?KP042788") == "1M8GDM9AXKP042788"


# -- plates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plate",
    [
        "京A12345",
        "沪B9C8D7",  # letters among the five (not I or O)
        "粤BD12345",  # new energy, small car: D + 5
        "粤BF12345",  # new energy, hybrid
        "粤B12345D",  # new energy, large vehicle: 5 + D
        "京A1234学",  # driving-school car
        "京A1234警",
        "京A1234挂",
    ],
)
def test_plate_accepted(plate: str) -> None:
    assert plate_ok(plate)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("粤B D12345", "粤BD12345"),
        ("粤B·D12345", "粤BD12345"),
        ("京A·12345", "京A12345"),
        (" 京a 12345 ", "京A12345"),
        ("京A-12345", "京A12345"),
    ],
)
def test_plate_normalisation(raw: str, normalised: str) -> None:
    assert normalize_plate(raw) == normalised
    assert plate_ok(normalize_plate(raw))


@pytest.mark.parametrize(
    "plate",
    [
        "京I12345",  # second character I
        "京O12345",  # second character O
        "京A1234O",  # O among the five
        "京AI2345",  # I among the five
        "港A12345",  # not a mainland province
        "AB12345",  # no province
        "京112345",  # the second character must be a letter
        "京A1234",  # too short
        "京A123",
        "京A1234567",  # too long
        "京A123456",  # six characters but not a new-energy pattern
        "粤BDI2345",  # new energy with an I
        "粤B1234D5",  # D/F only in first or last place
        "京A1234学5",
        "",
    ],
)
def test_plate_refused(plate: str) -> None:
    assert not plate_ok(plate)


def test_plate_refuses_suffix_after_five_characters() -> None:
    # A 学/警/挂 plate has four characters before the suffix (京A1234学); five plus the suffix
    # is eight characters in all, which no Chinese plate has.
    assert not plate_ok("京A12345学")


# -- mobile numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["13800138000", "15912345678", "19987654321", "16600001111"])
def test_mobile_accepted(phone: str) -> None:
    assert mobile_ok(phone)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("(138) 0013 8000", "13800138000"),
    ],
)
def test_phone_normalisation(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    assert mobile_ok(normalize_phone(raw))


@pytest.mark.parametrize(
    "phone",
    [
        "12345678901",  # second digit 2
        "11012345678",  # second digit 1
        "10086100861",  # second digit 0
        "23800138000",  # not starting with 1
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "1380013800a",
        "010-12345678",  # a landline
        "",
    ],
)
def test_mobile_refused(phone: str) -> None:
    assert not mobile_ok(normalize_phone(phone))
