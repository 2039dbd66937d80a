"""Reading the CSV a DMS exports, so its rows can be filed as one batch.

The header row holds field codes (``vin``) or the Chinese labels people see (``VIN（车架号）``,
``委托书号``). The file may be UTF-8 (with or without BOM) or GBK, which Chinese Excel and
most DMS exports still write. Problems are reported with the line they are on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from archive.commands import ImportFailed, RowProblem
from archive.kinds.registry import Kind


def decode(data: bytes) -> str:
    """UTF-8 if it decodes as such, else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFailed(
            [RowProblem(1, "", "文件编码无法识别，请另存为 UTF-8 或 GBK", "not UTF-8 nor GBK")]
        ) from None


def _key(text: str) -> str:
    """Header cells compared without spaces, case or a bracketed unit: 里程(km) ~ 里程（km）."""
    text = re.sub(r"\s", "", text).lower()
    return re.sub(r"[（(].*?[)）]", "", text)


def header_map(kind: Kind) -> dict[str, str]:
    """Every accepted header spelling → field code."""
    mapping: dict[str, str] = {}
    for spec in kind.fields:
        for spelling in (spec.code, spec.label, spec.label_en):
            mapping[_key(spelling)] = spec.code
    for spelling in ("number", kind.number_label, "单号", "编号"):
        mapping[_key(spelling)] = "number"
    return mapping


def read_rows(kind: Kind, data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, row) pairs; refuse unknown or repeated headers up front."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed([RowProblem(1, "", "文件是空的", "the file is empty")]) from None
    mapping = header_map(kind)
    codes: list[str | None] = []
    problems: list[RowProblem] = []
    for cell in header:
        if not cell.strip():
            codes.append(None)
            continue
        code = mapping.get(_key(cell))
        if code is None:
            problems.append(
                RowProblem(
                    1, cell, f"表头“{cell}”不是{kind.label}的栏目", f"unknown column {cell!r}"
                )
            )
        elif code in codes:
            problems.append(
                RowProblem(1, cell, f"表头“{cell}”重复", f"column {cell!r} appears twice")
            )
        codes.append(code)
    if problems:
        raise ImportFailed(problems)
    previous_line = reader.line_num
    for cells in reader:
        line = previous_line + 1  # the line a (possibly multi-line) record starts on
        previous_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(codes):
            raise ImportFailed(
                [
                    RowProblem(
                        line,
                        "",
                        f"有 {len(cells)} 列，表头只有 {len(codes)} 列",
                        f"{len(cells)} cells but {len(codes)} header columns",
                    )
                ]
            )
        row = {
            code: cell for code, cell in zip(codes, cells, strict=False) if code and cell.strip()
        }
        yield line, row
