"""The search segmenter cuts text exactly as jieba with its whole dictionary does, whether it
reads the dictionary word by word from the snapshot or loads it whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.search import dictionary
from projections.search.dictionary import AUTO_TERMS, Segmenter

TEXTS = [
    "发动机故障灯亮，怠速抖动，换挡顿挫",
    "更换前刹车片和刹车盘，检查制动液",
    "客户反映空调不制冷，鼓风机有异响；已更换压缩机",
    "三包索赔：变速箱漏油，旧件已返回服务中心",
    "京A12345 大众朗逸 首保 保养 12,345 km",
    "车主说方向盘跑偏，四轮定位后正常",
    "",
]


@pytest.fixture
def snapshot_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(dictionary.tempfile, "gettempdir", lambda: str(tmp_path))
    return tmp_path


def cuts(segmenter: Segmenter, mode: str) -> list[list[tuple[str, int, int]]]:
    return [list(segmenter.tokenize(text, mode)) for text in TEXTS]


@pytest.mark.parametrize("mode", ["default", "search"])
def test_looked_up_words_cut_as_the_whole_dictionary(snapshot_in: Path, mode: str) -> None:
    first = Segmenter()  # no snapshot yet: loads the whole dictionary and writes one
    whole = cuts(first, mode)
    assert first._full is not None and list(snapshot_in.glob("dealer-archive-jieba-*.sqlite"))

    looked_up = Segmenter()
    assert cuts(looked_up, mode) == whole
    assert looked_up._full is None and looked_up._words is not None  # never loaded whole
    assert 0 < looked_up._words.lookups < 2_000


def test_after_sales_words_are_kept_whole(snapshot_in: Path) -> None:
    Segmenter().tokenize("预热", "default")  # makes the snapshot
    segmenter = Segmenter()
    for term in ("故障灯", "刹车片", "四轮定位"):
        assert term in AUTO_TERMS
        assert [w for w, _, _ in segmenter.tokenize(f"检查{term}", "default")][-1] == term
    assert segmenter._full is None


def test_a_long_batch_loads_the_whole_dictionary(
    snapshot_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Segmenter().tokenize("预热", "default")
    monkeypatch.setattr(dictionary, "LOOKUPS_BEFORE_LOADING", 50)
    segmenter = Segmenter()
    expected = cuts(Segmenter(), "search")
    assert cuts(segmenter, "search") == expected and cuts(segmenter, "search") == expected
    assert segmenter._full is not None
