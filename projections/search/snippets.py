"""Snippets for engines that do not make their own: the text around the words found."""

from __future__ import annotations

import html

SNIPPET_CONTEXT = 20  # characters shown on each side of a match


def snippet(text: str, terms: list[str], fragments: int = 2) -> str:
    """Up to ``fragments`` pieces of ``text`` around the words found, each within one line of
    it and none overlapping another, each match in ``<b class="match">``, the rest escaped;
    the beginning of the text when nothing matched."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        start = lowered.find(term) if term else -1
        while start >= 0:
            end = start + len(term)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = lowered.find(term, end)
    if not spans:
        return html.escape(text[:120])
    spans.sort()
    pieces: list[str] = []
    shown_to = 0
    for first, _ in spans:
        if len(pieces) == fragments:
            break
        if first < shown_to:
            continue  # already in the piece before
        line_start = text.rfind("\n", 0, first) + 1
        line_end = text.find("\n", first)
        line_end = len(text) if line_end < 0 else line_end
        begin = max(line_start, first - SNIPPET_CONTEXT, shown_to)
        finish = min(line_end, first + SNIPPET_CONTEXT * 2)
        out, cursor = [], begin
        for s, e in spans:
            if s >= begin and e <= finish:
                out.append(html.escape(text[cursor:s]))
                out.append(f'<b class="match">{html.escape(text[s:e])}</b>')
                cursor = e
        out.append(html.escape(text[cursor:finish]))
        pieces.append("".join(out))
        shown_to = finish
    return "...".join(pieces)
