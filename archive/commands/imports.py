"""Importing the CSV a DMS exports: reading its rows, then filing them as one batch.

The header row holds field codes (``vin``) or the Chinese labels people see (``VIN（车架号）``,
``委托书号``). The file may be UTF-8 (with or without BOM) or GBK, which Chinese Excel and
most DMS exports still write. Problems are reported with the line they are on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from eventsourcing.persistence import IntegrityError

from archive.bootstrap import Archive
from archive.commands.common import actor_and_context
from archive.commands.links import check_links
from archive.errors import BadInput, FieldProblem, ValidationFailed
from archive.kinds.registry import Kind, get_kind
from archive.kinds.validation import validate_document
from archive.staff.permissions import FILE, require
from events.document import Document

# The csv module stops at a cell over 131,072 characters with an error that names neither the
# row nor the column. Its limit is raised (for this process: nothing else here reads CSV) and
# the cells are measured below, where the row and column are known.
MAX_CELL_CHARS = 131_072
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


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
            [row_problem(1, "", "文件编码无法识别，请另存为 UTF-8 或 GBK", "not UTF-8 nor GBK")]
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
        raise ImportFailed([row_problem(1, "", "文件是空的", "the file is empty")]) from None
    mapping = header_map(kind)
    codes: list[str | None] = []
    problems: list[FieldProblem] = []
    for cell in header:
        if not cell.strip():
            codes.append(None)
            continue
        code = mapping.get(_key(cell))
        if code is None:
            problems.append(
                row_problem(
                    1, cell, f"表头“{cell}”不是{kind.label}的栏目", f"unknown column {cell!r}"
                )
            )
        elif code in codes:
            problems.append(
                row_problem(1, cell, f"表头“{cell}”重复", f"column {cell!r} appears twice")
            )
        codes.append(code)
    if problems:
        raise ImportFailed(problems)
    previous_line = reader.line_num
    for cells in _records(reader):
        line = previous_line + 1  # the line a (possibly multi-line) record starts on
        previous_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        for cell, code, column in zip(cells, codes, header, strict=False):
            if len(cell) > MAX_CELL_CHARS:
                raise ImportFailed(
                    [
                        row_problem(
                            line,
                            code or column,
                            f"“{column}”这一格有 {len(cell)} 个字，超过 {MAX_CELL_CHARS} 字的上限",
                            f"the cell of column {column!r} holds {len(cell)} characters, "
                            f"over the limit of {MAX_CELL_CHARS}",
                        )
                    ]
                )
        if len(cells) > len(codes):
            raise ImportFailed(
                [
                    row_problem(
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


def _records(reader: Any) -> Iterator[list[str]]:
    """The reader's records; a CSV it cannot read is refused at the line it stopped on."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFailed(
                [row_problem(reader.line_num, "", "CSV 格式有误", f"malformed CSV: {error}")]
            ) from None
        yield cells


# -- filing a batch --------------------------------------------------------------------------


def row_problem(line: int, field: str, message_zh: str, message_en: str) -> FieldProblem:
    """A problem of one row of a batch, reported under its line of the file."""
    return FieldProblem(field, message_zh, message_en, line)


class ImportFailed(BadInput):
    """Problems in a batch, each with its line; nothing of the batch was filed."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        first = problems[0]
        super().__init__(
            "import_failed",
            f"导入失败：共 {len(problems)} 处问题，第 {first.line} 行 {first.message_zh}；"
            "整个文件都没有导入",
            f"import failed with {len(problems)} problems; nothing was filed",
            problems,
        )


def file_batch(
    archive: Archive,
    kind_code: str,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    actor: str,
) -> list[Document]:
    """File many documents atomically: all of them, or none if any row is bad.

    ``rows`` pairs each row with the line number it is reported under.
    """
    kind = get_kind(kind_code)
    person, ctx = actor_and_context(archive, actor)
    require(person, FILE, kind)
    problems: list[FieldProblem] = []
    docs: list[Document] = []
    lines_of: dict[str, int] = {}
    at = archive.now()
    for line, data in rows:
        fields = dict(data)
        try:
            number, values = validate_document(kind, fields.pop("number", None), fields, ctx)
            links = check_links(archive, kind, values, own_number=number)  # as file_document
        except ValidationFailed as failed:
            problems.extend(
                row_problem(line, p.field, p.message_zh, p.message_en) for p in failed.problems
            )
            continue
        if number in lines_of:
            problems.append(
                row_problem(
                    line,
                    "number",
                    f"{kind.number_label} {number} 与第 {lines_of[number]} 行重复",
                    f"number {number} repeats line {lines_of[number]}",
                )
            )
            continue
        lines_of[number] = line
        docs.append(Document.file(kind.code, number, values, actor, at))
        docs[-1].record_links(links, actor, at)
    if problems:
        raise ImportFailed(problems)
    if not docs:
        raise ImportFailed([row_problem(0, "", "文件中没有数据行", "the file holds no rows")])
    try:
        archive.app.save(*docs)
    except IntegrityError:
        existing = [d for d in docs if d.id in archive.app.repository]
        raise ImportFailed(
            [
                row_problem(
                    lines_of[d.number],
                    "number",
                    f"{kind.label} {d.number} 已经存档",
                    f"{kind.code} {d.number} is already filed",
                )
                for d in existing
            ]
            or [row_problem(0, "", "与同时进行的存档冲突，请重试", "concurrent filing; retry")]
        ) from None
    return docs
