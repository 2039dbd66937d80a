"""Turning text into search terms for Whoosh: jieba for Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter, Token, Tokenizer

from projections.search.dictionary import SEGMENTER


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
        for position, (word, start, end) in enumerate(SEGMENTER.tokenize(value, jieba_mode)):
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
