"""Running numbers of the series whose month is not the month being planned.

A claim is numbered by the month its repair was settled in, a callback by the month it was
made in: the October plan numbers some papers of November. Every month of one demo draws from
one :class:`Sequences`, so the November plan continues those series instead of starting them
again (two ``HF2611-0001`` would be one document filed twice).
"""

from __future__ import annotations

from collections import Counter


class Sequences:
    def __init__(self) -> None:
        self._last: Counter[str] = Counter()

    def next(self, series: str, start: int = 1, step: int = 1) -> int:
        """The next number of ``series``: ``start`` the first time, then ``step`` more."""
        if series not in self._last:
            self._last[series] = start
        else:
            self._last[series] += step
        return self._last[series]
