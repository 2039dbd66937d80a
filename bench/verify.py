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

With ``--bundle``, ``archive verify-bundle`` instead: a demo month (``--work-orders``, 310 make
the demo's ~2,200-page full binding) is sealed and bound, then checked

1. **before**: with the checker of an earlier commit (``--before REV``, exported with
   ``git archive``, run in a subprocess on the same file): the baseline in the same run;
2. **pypdf text**: pypdf's ``extract_text`` of every page alone (how the earlier checker read);
3. **one process** and **every core**: this checker (PDFium, cells compared).

    .venv/bin/python bench/verify.py --bundle [--work-orders 310] [--before 99d406e]

Goal (issue 15): verify-bundle of the full binding >= 2x faster than before (63 s measured).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
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
    parser.add_argument("--bundle", action="store_true", help="time verify-bundle instead")
    parser.add_argument("--work-orders", type=int, default=310, help="demo month (--bundle)")
    parser.add_argument("--before", help="commit whose checker is the baseline (--bundle)")
    args = parser.parse_args()
    if args.bundle:
        bundle_main(args.work_orders, args.before)
        return

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


# -- verify-bundle ---------------------------------------------------------------------------

SEALED_AT = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)  # the archive's clock after loading
_BEFORE = """
import sys, time
from archive.bundle.check import check_bundle
from archive.integrity.keys import VerifierKey
data = open(sys.argv[1], "rb").read()
key = VerifierKey.parse(open(sys.argv[2]).read())
report = check_bundle(data, key)
print(report.seconds, report.intact, report.pages)
"""


def bundle_main(work_orders: int, before: str | None) -> None:
    from pypdf import PdfReader

    from archive.bundle.check import check_bundle
    from archive.bundle.parallel import available_cores
    from archive.bundle.pipeline import bundle_volume
    from archive.demo import DemoSpec, generate, load
    from archive.integrity import load_verifier

    with tempfile.TemporaryDirectory(prefix="bench-verify-bundle-") as tmp:
        root = Path(tmp)
        archive = open_archive(Settings(home=root / "home"), clock=lambda: SEALED_AT)
        started = time.perf_counter()
        plan = generate(DemoSpec(month=MONTH, work_orders=work_orders))
        load(archive, plan)
        manager = next(p.username for p in plan.staff if "service_manager" in p.roles)
        commands.seal_month(archive, MONTH, manager, force_reason="基准测试")
        pdf = bundle_volume(archive, MONTH, "full").pdf
        key = load_verifier(archive.settings)
        assert key is not None
        archive.close()
        print(
            f"full binding of {MONTH} made in {time.perf_counter() - started:.0f} s "
            f"({len(pdf) / 1e6:.1f} MB); load average {_load()}"
        )
        rows = []
        if before:
            rows.append((f"before ({before})", _before(root, pdf, key.text(), before)))
        started = time.perf_counter()
        for page in PdfReader(io.BytesIO(pdf)).pages:
            page.extract_text()
        rows.append(("pypdf text of every page", time.perf_counter() - started))
        for label, workers in (("this check, 1 process", 1), ("this check, every core", None)):
            report = check_bundle(pdf, key, workers=workers)
            assert report.intact, [f.message_en for f in report.findings]
            rows.append((label, report.seconds))
        pages = report.pages
    print(f"verify-bundle of {pages} pages ({available_cores()} cores; load average {_load()}):")
    first = rows[0][1]
    for label, seconds in rows:
        print(
            f"  {label:28} {seconds:6.1f} s  {pages / seconds:6.1f} pages/s  "
            f"{first / seconds:5.2f}x the first row"
        )


def _before(root: Path, pdf: bytes, key: str, rev: str) -> float:
    """The earlier checker's time on the same file, in a process of its own."""
    tree = root / "before"
    tree.mkdir()
    archive_tar = subprocess.run(["git", "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive_tar, check=True)
    (root / "bundle.pdf").write_bytes(pdf)
    (root / "key.vkey").write_text(key)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", _BEFORE, str(root / "bundle.pdf"), str(root / "key.vkey")],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    ).stdout.split()
    if out[1] != "True":
        print(f"  (the earlier checker does not pass this file: {json.dumps(out)})")
    return float(out[0])


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
