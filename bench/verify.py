"""How fast ``archive verify`` reads the whole history, next to the raw read rate of the store.

Builds an archive of about ``--events`` events (realistic work orders filed in batches through
``commands.file_batch``), lets the ledger witness them and signs a checkpoint, then alternates
rounds of

1. **baseline**: ``recorder.select_notifications`` over the whole log in batches, nothing else;
2. **verify**: ``archive.integrity.verify`` (read and hash every event, build the tree, check the
   checkpoint, compare with the ledger),

on the same file, and reports the best round of each. Also prints how fast the ledger follows.

    .venv/bin/python bench/verify.py [--events 100000] [--rounds 3]

Goal (issue 7): verify reads >= 50,000 events/s on SQLite.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.config import Settings
from archive.demo import STAFF, register_staff, work_order_rows
from archive.integrity import make_checkpoint, verify
from archive.integrity.store import BATCH
from projections.runner import LogReader, catch_up

MONTH = "2026-10"
FILING_BATCH = 2000


def build(root: Path, events: int) -> Archive:
    archive = open_archive(Settings(home=root / "home"))
    register_staff(archive, STAFF)
    rows = work_order_rows(events - archive.app.head(), seed=21, month=MONTH)
    for start in range(0, len(rows), FILING_BATCH):
        batch = enumerate(rows[start : start + FILING_BATCH], start=start + 2)
        commands.file_batch(archive, "work_order", batch, STAFF[0].username)
    return archive


def time_raw_read(archive: Archive) -> float:
    select = archive.app.recorder.select_notifications
    started = time.perf_counter()
    count, position = 0, 0
    while batch := select(start=position, limit=BATCH, inclusive_of_start=False):
        count += len(batch)
        position = batch[-1].id
    return count / (time.perf_counter() - started)


def time_verify(archive: Archive) -> float:
    started = time.perf_counter()
    report = verify(archive)
    seconds = time.perf_counter() - started
    if not report.intact:
        raise SystemExit(f"the benchmark archive does not verify: {report.findings[0]}")
    return report.events / seconds


def time_ledger(archive: Archive) -> float:
    ledger = archive.open_ledger()
    try:
        started = time.perf_counter()
        applied = catch_up(ledger, LogReader(archive.app))
        return applied / (time.perf_counter() - started)
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events in the archive")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        started = time.perf_counter()
        archive = build(Path(tmp), args.events)
        built = time.perf_counter() - started
        try:
            ledger_rate = time_ledger(archive)
            make_checkpoint(archive)
            raw, verified = [], []
            for _ in range(args.rounds):
                raw.append(time_raw_read(archive))
                verified.append(time_verify(archive))
            events = archive.app.head()
        finally:
            archive.close()

    best_raw, best_verify = max(raw), max(verified)
    print(f"events: {events} (built in {built:.0f} s), rounds: {args.rounds}, store: SQLite")
    print(f"raw select_notifications: {best_raw:9.0f} events/s   (rounds: {_fmt(raw)})")
    print(
        f"archive verify:           {best_verify:9.0f} events/s   (rounds: {_fmt(verified)}; "
        "goal >= 50000)"
    )
    print(f"ratio verify / raw read:  {best_verify / best_raw:9.2f}")
    print(f"ledger catching up:       {ledger_rate:9.0f} events/s")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
