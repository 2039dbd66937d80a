"""Start-up time of the ``archive`` command, next to bare Python and a bare Typer app.

Every ``archive`` command is a new process: a clerk's script that files, signs and shows
documents one by one pays the start-up on each call, and ``archive --help`` is the first thing
anybody runs. Measured, each as a subprocess, in the same run:

1. **Baselines**: ``python -c pass`` (the interpreter alone) and a bare Typer app printing its
   help (the least any Typer command line can cost: the floor for ``archive --help``).
2. **archive --help**: the command line's import and its help text, no archive opened.
3. **archive show KIND NUMBER**: one document read from a small archive.
4. **archive search WORDS**: one search of the same archive.

The small archive is made first in a temporary ``ARCHIVE_HOME`` with the ``archive`` command
itself (``init``, three staff, three work orders). Each command runs once unmeasured (to warm
the disk cache and let the projections catch up), then ``--runs`` times; min, median and max
are wall-clock seconds, and the ratio is the median over ``python -c pass``'s median.

    .venv/bin/python bench/startup.py [--runs 7]

Goal: every ``archive`` command under 0.5 s (median). The script always exits 0: it measures.
Others' processes on the machine slow every row alike: the load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

GOAL_S = 0.5
PYTHON = sys.executable
ARCHIVE = str(Path(sys.executable).parent / "archive")

BARE_TYPER = """
import typer

app = typer.Typer(add_completion=False)


@app.command()
def first() -> None:
    "A command."


@app.command()
def second() -> None:
    "Another command."


app(["--help"])
"""

STAFF = [
    [
        "admin",
        "--name",
        "赵敏",
        "--role",
        "admin",
        "--role",
        "clerk",
        "--registration-no",
        "BA-0001",
    ],
    ["wang", "--name", "王强", "--role", "service_advisor"],
    ["li", "--name", "李师傅", "--role", "technician"],
]

SEARCH = "刹车"  # in two of the three work orders

# VINs with valid check digits (as in tests/support.py).
WORK_ORDERS = [
    ("WO-0001", "LSVAM4188C2184825", "京A12345", "制动时有异响", "更换前刹车片"),
    ("WO-0002", "1M8GDM9AXKP042788", "京B67890", "空调不制冷", "加注冷媒"),
    ("WO-0003", "LSVAM4188C2184825", "京A12345", "刹车踏板偏软", "排空制动液气泡"),
]


def work_order(number: str, vin: str, plate: str, fault: str, labour: str) -> dict:
    """A work order as ``archive file work_order --data`` reads it (see README.md)."""
    return {
        "number": number,
        "business_date": "2026-11-03",
        "vin": vin,
        "plate": plate,
        "model": "大众朗逸",
        "mileage_km": 12345,
        "customer_name": "张三",
        "customer_phone": "13800138000",
        "service_advisor": "王强",
        "technicians": "李师傅",
        "fault_description": fault,
        "labour_lines": [{"description": labour, "hours": "1.5", "amount": "150"}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = _environment(Path(tmp) / "home")
        if _make_archive(env, Path(tmp)):
            print(f"sample archive: {len(WORK_ORDERS)} work orders; {_hits(env, SEARCH)}")
        else:
            print("could not make the sample archive: only the baselines are measured")
        print(f"{args.runs} runs each; load average {_load()}")
        rows = [
            ("python -c pass", [PYTHON, "-c", "pass"]),
            ("bare Typer app --help", [PYTHON, "-c", BARE_TYPER]),
            ("archive --help", [ARCHIVE, "--help"]),
            ("archive show work_order WO-0001", [ARCHIVE, "show", "work_order", "WO-0001"]),
            (f"archive search {SEARCH}", [ARCHIVE, "search", SEARCH]),
        ]
        baseline = None
        print(f"{_pad('command')} {'min':>7} {'median':>7} {'max':>7} {'x pass':>7}  goal")
        for label, command in rows:
            times, failure = _measure(command, env, args.runs)
            if failure:
                print(f"{_pad(label)} failed: {failure}")
                continue
            median = statistics.median(times)
            baseline = baseline or median
            verdict = ""
            if label.startswith("archive"):
                met = "met" if median < GOAL_S else "NOT met"
                verdict = f"< {GOAL_S} s {met}"
            print(
                f"{_pad(label)} {min(times):7.3f} {median:7.3f} {max(times):7.3f} "
                f"{median / baseline:6.1f}x  {verdict}".rstrip()
            )
        print(f"load average {_load()}")


def _environment(home: Path) -> dict[str, str]:
    """This process's environment without any ARCHIVE_ setting, pointed at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return {**env, "ARCHIVE_HOME": str(home), "ARCHIVE_STAFF": "admin"}


def _make_archive(env: dict[str, str], tmp: Path) -> bool:
    """Create the archive, its staff and its work orders with the ``archive`` command."""
    steps = [[ARCHIVE, "init"]]
    steps += [[ARCHIVE, "staff", "add", *person] for person in STAFF]
    for fields in WORK_ORDERS:
        data = tmp / f"{fields[0]}.json"
        data.write_text(json.dumps(work_order(*fields), ensure_ascii=False), encoding="utf-8")
        steps.append([ARCHIVE, "file", "work_order", "--data", str(data)])
    for step in steps:
        done = subprocess.run(step, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"`{' '.join(step[1:])}` failed ({done.returncode}): {_last_line(done)}")
            return False
    return True


def _measure(command: list[str], env: dict[str, str], runs: int) -> tuple[list[float], str]:
    """Wall-clock seconds of ``runs`` runs after one unmeasured one, or why it failed."""
    times = []
    for run in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            return [], f"exit {done.returncode}: {_last_line(done)}"
        if run:
            times.append(elapsed)
    return times, ""


def _hits(env: dict[str, str], words: str) -> str:
    """What the measured search finds, so that the figure is known to be a real search."""
    done = subprocess.run(
        [ARCHIVE, "search", words, "--json"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        return f"`archive search {words}` failed ({done.returncode}): {_last_line(done)}"
    return f"`archive search {words}` finds {json.loads(done.stdout)['total']} of them"


def _pad(text: str, width: int = 34) -> str:
    """``text`` left-aligned in ``width`` terminal columns (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - columns, 0)


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else "(no output)"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
