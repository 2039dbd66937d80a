"""An amount of yuan in Chinese capitals (人民币大写), as written on invoices and notices.

The rules are the People's Bank's for filling in bills: 壹贰叁 … with 拾佰仟, 万 and 亿 for
groups of four digits; one 零 for any run of zeros inside the figure; 整 after 元 (or 角) when
there are no 分; an amount under one yuan has no 元. ``1680.32`` is 壹仟陆佰捌拾元叁角贰分.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
_GROUPS = ("", "万", "亿", "万亿")


def _group(value: int) -> str:
    """1..9999 in capitals, a zero inside said once (1009: 壹仟零玖)."""
    out, zero = "", False
    for place, unit in _PLACES:
        digit = value // place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[digit] + unit
    return out


def _yuan(value: int) -> str:
    groups = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    out, skipped = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            skipped = True
            continue
        if out and (skipped or group < 1000):  # 壹万零伍拾, 壹佰万零伍拾
            out += "零"
        out += _group(group) + _GROUPS[index]
        skipped = False
    return out


def amount_in_capitals(amount: Decimal | str) -> str:
    """``amount`` (yuan, rounded to the fen) in capitals, without the 人民币 before it."""
    fen_total = int((Decimal(str(amount)) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    if fen_total < 0:
        raise ValueError("a negative amount has no capitals on a notice")
    if fen_total == 0:
        return "零元整"
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    out = _yuan(yuan) + "元" if yuan else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif fen and yuan:
        out += "零"
    return out + (DIGITS[fen] + "分" if fen else "整")
