"""The look-up keys clerks type, normalised the same way when indexed and when searched."""

from __future__ import annotations

import re

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_SPACE = re.compile(r"[\s·.\-]")


def normalize_plate(text: str) -> str:
    return _SPACE.sub("", text).upper()


def plate_tail(plate: str) -> str:
    """The plate without its province character, as people often say and type it."""
    plate = normalize_plate(plate)
    return plate[1:] if plate and plate[0] in PROVINCES else plate


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)
