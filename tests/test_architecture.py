"""The layout's rules, checked on the source: arrows point one way, one write path, no cycles.

DESIGN.md fixes the layers (``web -> archive -> projections -> events``, ``templates`` is data)
and the principles (one write path, stored events are never changed). These tests read the
code with ``ast`` rather than importing it, so a broken rule is reported even where the code
would not import, and every failure names the file, line and import statement to change.

Set ``ARCH_ROOT`` to check another copy of the tree (for instance one with a violation planted
on purpose, to see that a rule can fail); by default the rules check this repository.
"""

from __future__ import annotations

import ast
import functools
import itertools
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("ARCH_ROOT") or Path(__file__).resolve().parent.parent).resolve()
LAYERS = ["events", "projections", "archive", "web"]  # each may import only those before it
PROJECT = set(LAYERS) | {"templates", "tests", "bench"}

# What each package may import besides itself: DESIGN.md's table. ``web`` reaches the read
# side only through ``archive``, never ``events`` or ``projections`` directly.
MAY_IMPORT = {
    "events": set(),
    "projections": {"events"},
    "archive": {"events", "projections", "templates"},
    "web": {"archive", "templates"},
    "templates": set(),  # a data package: Jinja2 files, no code to depend on
}

ARCHIVE_ROOT_MODULES_MAX = 8  # archive/*.py, __init__.py included: the rest lives in rooms
MODULE_LINES_MAX = 400
# Declaration modules: long tables of data (kinds and their fields, field types, demo
# vocabulary), not long logic. Anything else over the limit is to be split.
LONG_DECLARATION_MODULES = {
    "archive/kinds/registry.py",
    "archive/kinds/fieldtypes.py",
    "archive/demo/vocab.py",
}

# Each costs tenths of a second to import; the command line loads them only in the commands
# that use them, so that ``archive --help`` and ``archive show`` start quickly.
HEAVY_LIBRARIES = ["weasyprint", "pypdf", "whoosh", "jieba", "fastapi", "uvicorn"]


# -- reading the source ------------------------------------------------------------------------


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def module_name(path: Path) -> str:
    """``archive/kinds/registry.py`` is ``archive.kinds.registry``; a package is its folder."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(dotted: str) -> bool:
    """A ``.py`` file or a package folder (with or without ``__init__.py``) under ROOT."""
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def room(module: str) -> str:
    """The folder a module lives in: ``archive.kinds.registry`` is in ``archive.kinds``.

    A module directly in a package's root is a room of its own (``archive.bootstrap``).
    """
    return ".".join(module.split(".")[:2])


@dataclass(frozen=True)
class Import:
    """One project module imported by one statement."""

    path: Path  # the importing file
    line: int
    statement: str  # the source of the import statement, for messages
    source: str  # the importing module
    target: str  # the module imported, resolved as described in `imports_of`
    lazy: bool  # inside a function body: runs when called, not when imported
    type_only: bool  # inside `if TYPE_CHECKING:`: never runs

    def __str__(self) -> str:
        notes = [n for n, on in (("lazy", self.lazy), ("TYPE_CHECKING", self.type_only)) if on]
        where = f"{rel(self.path)}:{self.line}: {self.statement}"
        return f"{where}  [{', '.join(notes)}]" if notes else where


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(
    nodes: Iterable[ast.AST], lazy: bool = False, type_only: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement in ``nodes``, with whether it is lazy and/or type-only."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, lazy, type_only
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _import_nodes(ast.iter_child_nodes(node), True, type_only)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.body, lazy, True)
            yield from _import_nodes(node.orelse, lazy, type_only)
        else:
            yield from _import_nodes(ast.iter_child_nodes(node), lazy, type_only)


@functools.cache
def imports_of(path: Path) -> tuple[Import, ...]:
    """The project modules ``path`` imports, resolved to modules.

    ``import a.b`` imports ``a.b``. ``from a import b`` imports ``a.b`` when that is a module
    or package, else ``a`` (``b`` is then a name defined in ``a``). Relative imports are
    resolved against the importing module's package. Modules outside PROJECT are left out.
    """
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    text = path.read_text(encoding="utf-8")
    found = []
    for node, lazy, type_only in _import_nodes([ast.parse(text)]):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = ".".join(filter(None, [base, node.module]))
            else:
                base = node.module or ""
            targets = [
                f"{base}.{alias.name}"
                if alias.name != "*" and is_module(f"{base}.{alias.name}")
                else base
                for alias in node.names
            ]
        statement = ast.get_source_segment(text, node) or ""
        statement = " ".join(statement.split())  # a parenthesised import on one line
        for target in dict.fromkeys(targets):
            if target.split(".")[0] in PROJECT:
                found.append(Import(path, node.lineno, statement, source, target, lazy, type_only))
    return tuple(found)


def project_imports(packages: list[str]) -> list[Import]:
    return [
        imp for package in packages for path in python_files(package) for imp in imports_of(path)
    ]


# -- cycles --------------------------------------------------------------------------------------


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion: the groups of nodes that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(sorted(group))
    return groups


def shortest_cycle(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """The shortest path from ``start`` back to itself, staying inside ``within``."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in sorted(graph.get(node, ())):
            if succ not in within:
                continue
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if succ not in came_from:
                came_from[succ] = node
                queue.append(succ)
    raise AssertionError(f"{start} is on no cycle")


def find_cycles(edges: dict[tuple[str, str], list[Import]]) -> list[str]:
    """One cycle for each group of nodes that import each other, each with its imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph.setdefault(b, set())
    reports = []
    for group in strongly_connected(graph):
        if len(group) < 2:
            continue
        cycle = shortest_cycle(graph, group[0], set(group))
        lines = [f"cycle {cycle[:-1]}: {' -> '.join(cycle)}"]
        if len(group) > len(cycle) - 1:
            lines.append(f"  (part of a tangle of {len(group)}: {group})")
        for a, b in itertools.pairwise(cycle):
            evidence = edges[a, b]
            lines.append(f"  {a} -> {b}:")
            lines += [f"    {imp}" for imp in evidence[:3]]
            if len(evidence) > 3:
                lines.append(f"    ... and {len(evidence) - 3} more")
        reports.append("\n".join(lines))
    return reports


def runtime_edges(collapse=lambda module: module) -> dict[tuple[str, str], list[Import]]:
    """Who imports whom when the code runs: lazy imports count, TYPE_CHECKING ones do not."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in project_imports(LAYERS):
        if imp.type_only or imp.target.split(".")[0] not in LAYERS:
            continue
        a, b = collapse(imp.source), collapse(imp.target)
        if a != b:
            edges[a, b].append(imp)
    return edges


# -- layers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_point_one_way(layer: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(layer) + 1]) | {"templates"}
    for path in python_files(layer):
        forbidden = (imported_roots(path) & PROJECT) - allowed
        assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


@pytest.mark.parametrize("package", list(MAY_IMPORT))
def test_each_package_imports_only_what_the_layer_table_allows(package: str) -> None:
    """DESIGN.md's table, import by import: ``web`` sees only ``archive`` (and templates).

    Every import counts, also those inside functions (they run later, but still depend on
    the package) and under ``if TYPE_CHECKING:`` (a type from a layer is a dependency on it).
    """
    allowed = MAY_IMPORT[package] | {package}
    wrong = [
        str(imp)
        for path in python_files(package)
        for imp in imports_of(path)
        if imp.target.split(".")[0] not in allowed
    ]
    if wrong:
        pytest.fail(
            f"{package} may import only {sorted(allowed)}; these import something else:\n"
            + "\n".join(wrong)
        )


def test_events_import_only_the_library_and_the_standard_library() -> None:
    for path in python_files("events"):
        for root in imported_roots(path):
            assert root in sys.stdlib_module_names or root in {"eventsourcing", "events"}, (
                f"{path.relative_to(ROOT)} imports {root}"
            )


# -- cycles --------------------------------------------------------------------------------------


def test_no_import_cycles_between_modules() -> None:
    """A cycle makes import order matter and the modules impossible to understand alone.

    An import inside a function only postpones the cycle, so it counts; an import under
    ``if TYPE_CHECKING:`` never runs, so it does not.
    """
    cycles = find_cycles(runtime_edges())
    if cycles:
        pytest.fail(f"{len(cycles)} import cycle(s) between modules:\n" + "\n".join(cycles))


def test_no_import_cycles_between_folders() -> None:
    """Each sub-package is a room (``archive.kinds``, ``web.api``, ``projections.search``),
    and each module in a package's root a room of its own (``archive.bootstrap``): the rooms
    must depend on each other one way, so that each can be read, moved or tested alone."""
    cycles = find_cycles(runtime_edges(room))
    if cycles:
        pytest.fail(f"{len(cycles)} import cycle(s) between folders:\n" + "\n".join(cycles))


# -- size ----------------------------------------------------------------------------------------


def test_the_archive_root_stays_small() -> None:
    """New code goes into a room of ``archive/``, not next to the composition root."""
    modules = sorted(p.name for p in (ROOT / "archive").glob("*.py"))
    if len(modules) > ARCHIVE_ROOT_MODULES_MAX:
        pytest.fail(
            f"archive/ holds {len(modules)} modules, at most {ARCHIVE_ROOT_MODULES_MAX}: {modules}"
        )


def test_no_module_is_over_400_lines() -> None:
    """A long module does several things; split it along them. Declarations are exempt."""
    long = {
        rel(path): n
        for layer in LAYERS
        for path in python_files(layer)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES_MAX
    }
    over = [f"{path}: {n} lines" for path, n in sorted(long.items())]
    over = [line for line in over if line.split(":")[0] not in LONG_DECLARATION_MODULES]
    if over:
        pytest.fail(f"modules over {MODULE_LINES_MAX} lines:\n" + "\n".join(over))


def test_the_long_module_allow_list_names_existing_files() -> None:
    """A declaration module moved or renamed must take its exemption along, not leave it."""
    missing = sorted(p for p in LONG_DECLARATION_MODULES if not (ROOT / p).is_file())
    if missing:
        pytest.fail(f"LONG_DECLARATION_MODULES names files that do not exist: {missing}")


# -- start-up ------------------------------------------------------------------------------------

_PROBE = r"""
import importlib, json, os, sys, traceback
heavy, root, modules = set(json.loads(sys.argv[1])), sys.argv[2], json.loads(sys.argv[3])
code = tuple(os.path.join(root, p) + os.sep for p in ("events", "projections", "archive", "web"))
chains = {}

class Spy:  # notes which project lines led to each heavy library's first import
    @staticmethod
    def find_spec(name, path=None, target=None):
        top = name.partition(".")[0]
        if top in heavy and top not in chains:
            chains[top] = [
                f"{os.path.relpath(f.filename, root)}:{f.lineno}: {(f.line or '').strip()}"
                for f in traceback.extract_stack() if f.filename.startswith(code)
            ]
        return None

sys.meta_path.insert(0, Spy)
error = None
try:
    for module in modules:
        importlib.import_module(module)
except BaseException:
    error = traceback.format_exc()
print(json.dumps({
    "archive": sys.modules["archive"].__file__ if "archive" in sys.modules else None,
    "error": error,
    "loaded": {h: chains.get(h, []) for h in sorted(heavy) if h in sys.modules},
}))
"""


def cli_modules() -> list[str]:
    """``archive.cli`` and the module of the ``archive`` entry point in pyproject.toml."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    return list(dict.fromkeys(["archive.cli", scripts["archive"].partition(":")[0]]))


@pytest.fixture(scope="module")
def cli_import() -> dict:
    """Import the command line in a fresh interpreter and see what else came along."""
    modules = cli_modules()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY_LIBRARIES), str(ROOT), json.dumps(modules)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"the probe failed:\n{done.stderr}"
    result = json.loads(done.stdout.splitlines()[-1])
    result["modules"] = modules
    return result


@pytest.mark.parametrize("library", HEAVY_LIBRARIES)
def test_the_cli_loads_heavy_libraries_lazily(cli_import: dict, library: str) -> None:
    """``import archive.cli`` must not import ``library``: only the commands that use it may.

    ``archive --help`` and ``archive show`` should start in well under half a second, and
    each of these libraries costs a good part of that on its own.
    """
    imported = " and ".join(cli_import["modules"])
    where = Path(cli_import["archive"] or ".").resolve()
    assert where.is_relative_to(ROOT), f"the probe imported archive from {where}, not {ROOT}"
    chain = cli_import["loaded"].get(library)
    if chain is not None:
        pytest.fail(
            f"importing {imported} loads {library}; first pulled in by:\n  "
            + ("\n  ".join(chain) or "(no project frame: another library imported it)")
        )
    if cli_import["error"]:
        last = cli_import["error"].strip().splitlines()[-3:]
        pytest.fail(
            f"importing {imported} failed, so whether it loads {library} is unknown:\n  "
            + "\n  ".join(last)
        )


# -- the write path ------------------------------------------------------------------------------


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
