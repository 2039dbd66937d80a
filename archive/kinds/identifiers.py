"""Checks for the identifiers of Chinese after-sales paperwork: VIN, plate, mobile number."""

from __future__ import annotations

import re

# ISO 3779 / GB 16735: letters transliterate to digits; I, O and Q never occur.
_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Letters I and O are not used on plates (confusable with 1 and 0).
_PLATE_CHARS = "0-9A-HJ-NP-Z"
_PLATE_RE = re.compile(
    rf"^[{PROVINCES}][A-HJ-NP-Z]"
    rf"(?:[{_PLATE_CHARS}]{{5}}|[{_PLATE_CHARS}]{{4}}[学警挂]|[DFA-HJ-K][{_PLATE_CHARS}]{{5}}|[{_PLATE_CHARS}]{{5}}[DF])$"
)
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def vin_check_digit(vin: str) -> str:
    """The check character (position 9) that ``vin`` should carry."""
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(vin: str) -> tuple[str, str] | None:
    """``None`` for a valid VIN, else (Chinese, English) saying what is wrong."""
    if len(vin) != 17:
        return (
            f"VIN 必须是 17 位，现在是 {len(vin)} 位",
            f"VIN must be 17 characters, got {len(vin)}",
        )
    bad = sorted({c for c in vin if c in "IOQ"})
    if bad:
        return (
            f"VIN 中不能出现字母 {'、'.join(bad)}（I、O、Q 不用于 VIN）",
            f"VIN must not contain {', '.join(bad)} (I, O and Q are not used)",
        )
    other = sorted({c for c in vin if c not in VIN_ALPHABET})
    if other:
        return (
            f"VIN 只能包含数字和大写字母，不能有 {' '.join(other)}",
            f"VIN may hold only digits and capital letters, not {' '.join(other)}",
        )
    expected = vin_check_digit(vin)
    if vin[8] != expected:
        return (
            f"VIN 校验位（第 9 位）应为 {expected}，现在是 {vin[8]}，请核对 VIN",
            f"VIN check digit (position 9) should be {expected}, not {vin[8]}",
        )
    return None


def with_check_digit(vin16: str) -> str:
    """Complete a 17-character VIN whose 9th character is a placeholder; for generators."""
    draft = vin16[:8] + "0" + vin16[9:]
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def normalize_plate(raw: str) -> str:
    """Strip the spaces and dots people type inside plates; upper-case the letters."""
    return re.sub(r"[\s·.\-]", "", raw).upper()


def plate_ok(plate: str) -> bool:
    return bool(_PLATE_RE.match(plate))


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def mobile_ok(phone: str) -> bool:
    return bool(_MOBILE_RE.match(phone))
