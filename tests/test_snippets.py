"""Snippets for the Tantivy engine: matches marked, text escaped, pieces apart."""

from __future__ import annotations

from projections.search.snippets import snippet


def test_matches_are_marked_and_the_rest_escaped() -> None:
    got = snippet("客户说<刹车>有异响", ["刹车", "异响"])
    assert got == '客户说&lt;<b class="match">刹车</b>&gt;有<b class="match">异响</b>'


def test_pieces_stay_within_a_line_and_do_not_repeat() -> None:
    text = "前刹车片磨损至极限，制动时有金属摩擦声\n更换前制动片，清洁制动卡钳，路试制动正常"
    got = snippet(text, ["刹车", "制动"])
    first, second = got.split("...")
    assert "\n" not in got
    assert first.startswith("前<b") and second.startswith("更换前<b")
    assert got.count("金属摩擦声") == 1


def test_nothing_found_shows_the_beginning() -> None:
    assert snippet("更换机油" * 50, ["刹车"]) == ("更换机油" * 30)
    assert snippet("a<b", []) == "a&lt;b"
