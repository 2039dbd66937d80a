"""Rebuild time of the SQL read models on SQLite and on PostgreSQL (issue 16).

Loads one demo (``--months`` months of ``--work-orders`` a month) into an archive on each store
(a throwaway PostgreSQL cluster, as the tests make), then times ``runner.rebuild(name)`` for
each read model, best of ``--rounds``, and prints events per second side by side.

    .venv/bin/python bench/read_models.py [--months 1] [--work-orders 600] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.bootstrap import open_archive
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from tests.pgcluster import PostgresCluster

NAMES = ("worklists", "vehicles", "months", "ledger")


def measure(settings: Settings, spec: DemoSpec, rounds: int) -> tuple[int, dict[str, float]]:
    archive = open_archive(settings)
    try:
        started = time.perf_counter()
        load(archive, generate(spec))
        print(
            f"  {settings.backend}: demo loaded in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        best: dict[str, float] = {}
        with archive.read_models() as models:
            for name in NAMES:
                for _ in range(rounds):
                    started = time.perf_counter()
                    models.runner.rebuild(name)
                    seconds = time.perf_counter() - started
                    best[name] = min(best.get(name, seconds), seconds)
        return archive.app.head(), best
    finally:
        archive.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--work-orders", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    spec = DemoSpec(month="2026-10", months=args.months, work_orders=args.work_orders)
    cluster = PostgresCluster()
    cluster.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = cluster.create_database("bench_read_models")
            results = {
                "sqlite": measure(Settings(home=Path(tmp) / "sqlite"), spec, args.rounds),
                "postgres": measure(
                    Settings(home=Path(tmp) / "pg", database_url=url), spec, args.rounds
                ),
            }
    finally:
        cluster.stop()
    events = results["sqlite"][0]
    print(f"{args.months} month(s) x {args.work_orders} work orders: {events} events")
    print(f"{'read model':<12}{'SQLite s':>10}{'ev/s':>9}{'PostgreSQL s':>14}{'ev/s':>9}")
    for name in NAMES:
        lite, pg = results["sqlite"][1][name], results["postgres"][1][name]
        print(f"{name:<12}{lite:>10.2f}{events / lite:>9.0f}{pg:>14.2f}{events / pg:>9.0f}")


if __name__ == "__main__":
    main()
