"""The words of a query as clerks say them: each word with its synonyms (``synonyms.txt``)."""

from __future__ import annotations

import functools
from importlib.resources import files


@functools.cache
def synonym_groups() -> dict[str, tuple[str, ...]]:
    """Each word of the table → every word of its group (itself first)."""
    groups: dict[str, tuple[str, ...]] = {}
    text = files("projections.search").joinpath("synonyms.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        for word in words:
            groups[word] = (word, *(w for w in words if w != word))
    return groups


def with_synonyms(token: str) -> tuple[str, ...]:
    return synonym_groups().get(token, (token,))
