"""jieba's dictionary, read word by word from a snapshot instead of loaded whole.

Loading jieba's 500,000-word dictionary takes about 0.6 s of every process that segments
Chinese, which is most of what ``archive search`` would cost. A query of a few words needs
the frequencies of only its own substrings, so a process starts with a :class:`Segmenter`
that looks them up in a SQLite snapshot of the fully prepared dictionary (jieba's own plus
:data:`AUTO_TERMS`), remembering each answer; once it has looked up more words than loading
the whole dictionary costs (a rebuild, a long batch), it loads the whole dictionary. Both
hold the same frequencies and run jieba's own algorithm, so they cut text identically.

The snapshot is made once per machine and dictionary, in the temporary folder where jieba
keeps its own cache, and written atomically; any process may make it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import os
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType


def _import_jieba() -> ModuleType:
    """jieba imports ``pkg_resources`` (deprecated, and 80 ms to import) only to open its own
    data files, and opens them by path when it is missing: hide it while jieba loads."""
    hide = "pkg_resources" not in sys.modules
    if hide:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # "not installed"
    try:
        return importlib.import_module("jieba")
    finally:
        if hide:
            del sys.modules["pkg_resources"]


jieba = _import_jieba()
jieba.setLogLevel(logging.WARNING)

# After-sales words jieba's general dictionary splits wrongly (故障灯亮 → 故障/灯亮, so
# 故障灯 would never match). Search mode still yields their parts (故障灯 → 故障).
_TERMS_TEXT = (
    "故障灯 发动机故障灯 机油灯 胎压灯 气囊灯 刹车片 刹车盘 刹车油 制动液 制动片 制动盘 "
    "手刹 电子手刹 怠速 怠速抖动 异响 顿挫 换挡顿挫 变速箱 变速器 离合器 离合片 "
    "火花塞 点火线圈 喷油嘴 节气门 三元催化 氧传感器 曲轴 凸轮轴 正时皮带 正时链条 "
    "水泵 节温器 冷却液 防冻液 散热器 水箱 机油 机滤 机油滤清器 空滤 空气滤清器 "
    "空调滤芯 汽油滤清器 蒸发箱 冷凝器 压缩机 鼓风机 空调不制冷 雨刮 雨刮片 "
    "大灯 尾灯 转向灯 雾灯 车窗 玻璃升降器 升降器 天窗 门锁 中控锁 后视镜 "
    "轮胎 轮毂 四轮定位 动平衡 减震器 避震器 悬挂 球头 摆臂 转向机 助力泵 "
    "方向盘 蓄电池 电瓶 发电机 起动机 保险丝 线束 仪表盘 中控屏 倒车雷达 "
    "钣金 喷漆 钣喷 补漆 漏油 渗油 漏水 异味 抖动 跑偏 首保 保养 三包 索赔 "
    "外出服务 旧件 返修 救援 拖车 胎压 传感器"
)
AUTO_TERMS = tuple(_TERMS_TEXT.split())
AUTO_TERM_FREQ = 20000

# Past this many texts cut or words looked up one by one, loading the whole dictionary is
# cheaper (a rebuild, a long batch).
CUTS_BEFORE_LOADING = 20_000
LOOKUPS_BEFORE_LOADING = 20_000


def _prepared_full() -> jieba.Tokenizer:
    """jieba's own tokenizer, loaded whole, with the after-sales words added."""
    tokenizer = jieba.dt
    tokenizer.check_initialized()
    for term in AUTO_TERMS:
        if tokenizer.FREQ.get(term) != AUTO_TERM_FREQ:
            tokenizer.add_word(term, freq=AUTO_TERM_FREQ)
    return tokenizer


def _snapshot_path() -> Path:
    dictionary = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    stat = dictionary.stat()
    key = hashlib.sha256(
        f"{jieba.__version__}|{dictionary}|{stat.st_size}|{stat.st_mtime_ns}|"
        f"{AUTO_TERM_FREQ}|{_TERMS_TEXT}".encode()
    ).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"dealer-archive-jieba-{key}.sqlite"


def _write_snapshot(path: Path, tokenizer: jieba.Tokenizer) -> None:
    fd, draft = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    os.close(fd)
    try:
        with sqlite3.connect(draft) as conn:
            conn.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, freq INTEGER) WITHOUT ROWID")
            conn.execute("CREATE TABLE meta (total INTEGER)")
            conn.executemany("INSERT INTO freq VALUES (?, ?)", tokenizer.FREQ.items())
            conn.execute("INSERT INTO meta VALUES (?)", (tokenizer.total,))
        conn.close()
        os.replace(draft, path)
    finally:
        if os.path.exists(draft):
            os.unlink(draft)


class _LookedUp:
    """The dictionary's frequencies as jieba reads them (``in``, ``[]``, ``get``), fetched
    from the snapshot one word at a time and remembered."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._known: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self.total = self._conn.execute("SELECT total FROM meta").fetchone()[0]

    @property
    def lookups(self) -> int:
        return len(self._known)

    def get(self, word: str, default: int | None = None) -> int | None:
        try:
            found = self._known[word]
        except KeyError:
            with self._lock:
                row = self._conn.execute("SELECT freq FROM freq WHERE word = ?", (word,)).fetchone()
            found = self._known[word] = None if row is None else row[0]
        return default if found is None else found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found

    def close(self) -> None:
        self._conn.close()


class Segmenter:
    """Cuts text as jieba does; see the module's docstring for how it avoids loading."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._full: jieba.Tokenizer | None = None
        self._lazy: jieba.Tokenizer | None = None
        self._words: _LookedUp | None = None
        self._cuts = 0

    def tokenize(self, text: str, mode: str) -> tuple[tuple[str, int, int], ...]:
        """Each word with where it starts and ends; the same text cut moments ago (an
        entry's current and history versions, a customer's name) is not cut again."""
        return self._cut(text, mode)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one segmenter per process
    def _cut(self, text: str, mode: str) -> tuple[tuple[str, int, int], ...]:
        return tuple(self._tokenizer().tokenize(text, mode=mode))

    def _tokenizer(self) -> jieba.Tokenizer:
        if self._full is not None:
            return self._full
        with self._lock:
            self._cuts += 1
            words = self._words
            if words is not None and (
                self._cuts > CUTS_BEFORE_LOADING or words.lookups > LOOKUPS_BEFORE_LOADING
            ):
                self._load_full()
            elif self._lazy is None:
                self._open_snapshot()
            return self._full or self._lazy  # type: ignore[return-value]

    def _load_full(self) -> None:
        self._full = _prepared_full()
        if self._words is not None:
            self._words.close()
        self._lazy = self._words = None

    def _open_snapshot(self) -> None:
        path = _snapshot_path()
        if not path.exists():
            # First use on this machine: the whole dictionary is loaded anyway to make it.
            self._load_full()
            _write_snapshot(path, self._full)  # type: ignore[arg-type]
            return
        words = _LookedUp(path)
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = words
        tokenizer.total = words.total
        tokenizer.initialized = True
        self._lazy, self._words = tokenizer, words


SEGMENTER = Segmenter()
