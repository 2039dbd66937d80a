"""The layout's rules, checked on the source: arrows point one way, one write path."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["events", "projections", "archive", "web"]  # each may import only those before it
PROJECT = set(LAYERS) | {"templates", "tests", "bench"}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_point_one_way(layer: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(layer) + 1]) | {"templates"}
    for path in python_files(layer):
        forbidden = (imported_roots(path) & PROJECT) - allowed
        assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


def test_events_import_only_the_library_and_the_standard_library() -> None:
    import sys

    for path in python_files("events"):
        for root in imported_roots(path):
            assert root in sys.stdlib_module_names or root in {"eventsourcing", "events"}, (
                f"{path.relative_to(ROOT)} imports {root}"
            )


def test_only_the_write_path_saves_events() -> None:
    pattern = re.compile(r"\b(app|application)\.save\(")
    savers = {
        path.relative_to(ROOT).as_posix()
        for layer in LAYERS
        for path in python_files(layer)
        if pattern.search(path.read_text(encoding="utf-8"))
    }
    assert savers and all(s.startswith("archive/commands/") for s in savers), savers


def test_no_code_updates_or_deletes_stored_events() -> None:
    pattern = re.compile(
        r"\b(UPDATE|DELETE\s+FROM|DROP\s+TABLE|TRUNCATE)\b.*stored_events|"
        r"\b(UPDATE|DELETE\s+FROM|TRUNCATE)\s+\w*_?events\b",
        re.IGNORECASE,
    )
    for layer in LAYERS:
        for path in python_files(layer):
            assert not pattern.search(path.read_text(encoding="utf-8")), path
