"""Turning text into search terms: jieba for Chinese, plus the look-up keys clerks type."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import jieba
from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter, Token, Tokenizer

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
for _term in AUTO_TERMS:
    jieba.add_word(_term, freq=20000)

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_SPACE = re.compile(r"[\s·.\-]")


class JiebaTokenizer(Tokenizer):
    """Search mode when indexing (刹车片 also yields 刹车); accurate mode for queries."""

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        jieba_mode = "default" if mode == "query" else "search"
        for position, (word, start, end) in enumerate(jieba.tokenize(value, mode=jieba_mode)):
            if not word.strip():
                continue
            token.original = token.text = word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + position
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def chinese_analyzer() -> Any:
    return JiebaTokenizer() | LowercaseFilter() | StopFilter(minsize=1) | StemFilter()


def normalize_plate(text: str) -> str:
    return _SPACE.sub("", text).upper()


def plate_tail(plate: str) -> str:
    """The plate without its province character, as people often say and type it."""
    plate = normalize_plate(plate)
    return plate[1:] if plate and plate[0] in PROVINCES else plate


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)
