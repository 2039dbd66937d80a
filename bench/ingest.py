"""How fast documents go in, next to the raw eventsourcing baseline measured in the same run.

1. **Write path**: ``commands.file_document`` one work order at a time (validation, staff
   check, duplicate check, one ``save`` each), against the raw ``Application.save()`` of an
   equivalent aggregate carrying the same already-typed fields. Rounds alternate between the
   two on fresh files so that a noisy machine slows both alike; the best round of each counts.
2. **Bulk import**: a DMS CSV of realistic work orders read and filed as one batch
   (``importer.read_rows`` + ``commands.file_batch``), in documents per second.
3. **Ledger overhead**: the write path of 1. again while the integrity ledger follows the log
   in a background thread of the same process (``ProjectionRunner.start``, polling as
   ``archive serve`` does), against the write path alone; both alternate with the rounds of 1.
   After each round the ledger must catch up within 30 s, or the figure is refused.

    .venv/bin/python bench/ingest.py [--docs 1000] [--import-rows 10000] [--rounds 3]
    ARCHIVE_DATABASE_URL=postgresql://... .venv/bin/python bench/ingest.py   # against PostgreSQL

Goals (issue 2): write path >= 0.7x raw; import >= 3,000 work orders/s on SQLite.
Goal (issue 7): the write path with the ledger following >= 0.9x the write path alone.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.commands.imports import read_rows
from archive.config import Settings
from archive.demo import STAFF, register_staff, work_order_rows
from archive.kinds.registry import get_kind
from archive.kinds.validation import validate_document
from events.application import ArchiveApplication
from projections.runner import ProjectionRunner

MONTH = "2026-10"
ACTOR = STAFF[0].username


class RawDocument(Aggregate):
    """The baseline: an aggregate holding the same data, with no rules around it."""

    def __init__(self, kind: str, number: str, fields: dict[str, Any], actor: str) -> None:
        self.kind = kind
        self.number = number
        self.fields = fields
        self.actor = actor


def fresh_archive(root: Path, name: str) -> Archive:
    url = os.environ.get("ARCHIVE_DATABASE_URL")
    if url:
        raise SystemExit("PostgreSQL runs need a fresh database per round; use SQLite here")
    archive = open_archive(Settings(home=root / name))
    register_staff(archive, STAFF)
    return archive


def time_write_path(
    root: Path, name: str, rows: list[dict[str, Any]], follow_ledger: bool = False
) -> float:
    archive = fresh_archive(root, name)
    runner = ProjectionRunner(archive.app, [archive.open_ledger()]) if follow_ledger else None
    try:
        if runner is not None:
            runner.start()
        started = time.perf_counter()
        for row in rows:
            commands.file_document(archive, "work_order", row, ACTOR)
        rate = len(rows) / (time.perf_counter() - started)
        if runner is not None and not runner.wait_for(timeout=30):
            raise SystemExit("the ledger did not keep up with the write path")
        return rate
    finally:
        if runner is not None:
            runner.close()
        archive.close()


def time_raw(root: Path, name: str, typed: list[tuple[str, dict[str, Any]]]) -> float:
    settings = Settings(home=root / name)
    settings.home.mkdir(parents=True)
    app = ArchiveApplication(env=settings.eventsourcing_env())
    try:
        started = time.perf_counter()
        for number, fields in typed:
            app.save(RawDocument(kind="work_order", number=number, fields=fields, actor=ACTOR))
        return len(typed) / (time.perf_counter() - started)
    finally:
        app.close()


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    codes = sorted({code for row in rows for code in row})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(codes)
    for row in rows:
        writer.writerow(
            [
                json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                for v in (row.get(c, "") for c in codes)
            ]
        )
    return out.getvalue().encode("utf-8")


def time_import(root: Path, name: str, data: bytes) -> tuple[float, int]:
    archive = fresh_archive(root, name)
    try:
        started = time.perf_counter()
        docs = commands.file_batch(
            archive, "work_order", read_rows(get_kind("work_order"), data), ACTOR
        )
        return len(docs) / (time.perf_counter() - started), len(docs)
    finally:
        archive.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=1000, help="work orders per write-path round")
    parser.add_argument("--import-rows", type=int, default=10000, help="rows in the import CSV")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    rows = work_order_rows(args.docs, seed=11, month=MONTH)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        probe = fresh_archive(root, "probe")
        ctx = commands.validation_context(probe)
        kind = get_kind("work_order")
        typed = []
        for row in rows:
            fields = dict(row)
            typed.append(validate_document(kind, fields.pop("number"), fields, ctx))
        probe.close()

        write_path, raw, with_ledger = [], [], []
        for round_no in range(args.rounds):
            raw.append(time_raw(root, f"raw-{round_no}", typed))
            write_path.append(time_write_path(root, f"wp-{round_no}", rows))
            with_ledger.append(time_write_path(root, f"wpl-{round_no}", rows, follow_ledger=True))
        data = as_csv(work_order_rows(args.import_rows, seed=12, month=MONTH))
        imports = [time_import(root, f"import-{n}", data) for n in range(args.rounds)]

    best_wp, best_raw, best_ledger = max(write_path), max(raw), max(with_ledger)
    best_import, filed = max(imports)
    print(f"documents per round: {args.docs}, rounds: {args.rounds}, store: SQLite")
    print(f"raw eventsourcing save():   {best_raw:8.0f} docs/s   (rounds: {_fmt(raw)})")
    print(f"write path file_document(): {best_wp:8.0f} docs/s   (rounds: {_fmt(write_path)})")
    print(f"ratio write path / raw:     {best_wp / best_raw:8.2f}     (goal >= 0.70)")
    print(
        f"write path, ledger following: {best_ledger:6.0f} docs/s   (rounds: {_fmt(with_ledger)})"
    )
    print(f"ratio with ledger / without: {best_ledger / best_wp:7.2f}     (goal >= 0.90)")
    print(
        f"CSV import of {filed} work orders: {best_import:8.0f} docs/s   "
        f"(rounds: {_fmt([r for r, _ in imports])}; goal >= 3000)"
    )


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
