"""Several servers on one PostgreSQL (issue 16, point 7): filings per second and search
latency with one ``archive serve`` and with two, under the same bounded load, side by side.

For each setup a fresh database in a throwaway PostgreSQL cluster (``tests/pgcluster.py``)
gets the same corpus (``--base`` work orders of the three months before, filed in this
process before any server starts), then an ``archive worker`` and the servers start on
loopback ports (``--no-follow``: the worker keeps the shared read models; each home its own,
as on separate machines; ``tests/servers_support.py``). The load: ``--clients`` threads take
the next of ``--docs`` work orders in turn, file it through the API (``POST
/api/v1/documents/work_order``, which settles: the server catches the read models up before
it answers) on server ``n % servers``, then run ``--searches`` queries of a fixed mix on the
next server. The same rows, the same queries, in the same order, for both setups.

Reported per setup: filings per second over the load's wall time, filing and search p50/p95,
and how long after the last filing every shared read model reached the log's head.

    .venv/bin/python bench/servers.py [--docs 300] [--clients 4] [--searches 2] [--base 2000]

On one machine the servers share its cores with PostgreSQL, the worker and the clients:
the figures say what a second process buys on this machine, not on a second one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: tests/

from archive import commands
from archive.bootstrap import Archive
from archive.demo import STAFF, register_staff, work_order_rows
from tests.pgcluster import PostgresCluster
from tests.servers_support import (
    Fleet,
    log_head,
    open_fleet,
    read_model_positions,
    wait_until_up,
)

BASE_MONTHS = ("2026-08", "2026-09", "2026-10")
LOAD_MONTH = "2026-11"
ACTOR = STAFF[0].username  # admin: the registered clerk, who files

# What the desk types while it files: words, filters, numbers, phones, dates.
QUERIES = (
    "保养",
    "刹车 kind:work_order",
    "机油 month:2026-10",
    "发动机 故障灯",
    "更换 机油 滤清器",
    "status:待签字 sort:date",
    "WO2610",
    "date:2026-09-01..2026-09-30",
    "异响 -保养",
    "天窗",
)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def base_corpus(docs: int) -> Any:
    """What each setup's archive holds before the servers start."""

    def setup(archive: Archive) -> None:
        per_month = (docs + len(BASE_MONTHS) - 1) // len(BASE_MONTHS)
        for index, month in enumerate(BASE_MONTHS):
            rows = work_order_rows(per_month, seed=100 + index, month=month)
            commands.file_batch(archive, "work_order", enumerate(rows, 1), ACTOR)

    return setup


def register(archive: Archive) -> None:
    register_staff(archive, STAFF)


class Load:
    """``clients`` threads filing ``rows`` and searching, spread over the fleet's servers."""

    def __init__(self, fleet: Fleet, rows: list[dict[str, Any]], clients: int, searches: int):
        self.fleet = fleet
        self.rows = rows
        self.clients = clients
        self.searches = searches
        self.next = 0
        self.lock = threading.Lock()
        self.filings: list[float] = []
        self.lookups: list[float] = []
        self.errors: list[str] = []
        self.last_filed = 0.0

    def take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.rows):
                return None
            self.next += 1
            return self.next - 1

    def client(self) -> None:
        servers = self.fleet.servers
        apis = [self.fleet.api(s) for s in servers]
        try:
            while (n := self.take()) is not None:
                api = apis[n % len(apis)]
                started = time.perf_counter()
                answer = api.post("/api/v1/documents/work_order", json=self.rows[n])
                took = time.perf_counter() - started
                with self.lock:
                    self.filings.append(took)
                    self.last_filed = time.perf_counter()
                    if answer.status_code != 201:
                        self.errors.append(f"file {answer.status_code} {answer.text[:200]}")
                for k in range(self.searches):
                    query = QUERIES[(n * self.searches + k) % len(QUERIES)]
                    api = apis[(n + 1 + k) % len(apis)]
                    started = time.perf_counter()
                    answer = api.get("/api/v1/search", params={"q": query})
                    took = time.perf_counter() - started
                    with self.lock:
                        self.lookups.append(took)
                        if answer.status_code != 200:
                            self.errors.append(f"search {answer.status_code} {answer.text[:200]}")
        finally:
            for api in apis:
                api.close()

    def run(self) -> dict[str, Any]:
        threads = [threading.Thread(target=self.client) for _ in range(self.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        head = log_head(self.fleet.database_url)
        while min(read_model_positions(self.fleet.database_url).values()) < head:
            time.sleep(0.05)
        settled = time.perf_counter() - self.last_filed
        return {
            "wall": wall,
            "filings_per_s": len(self.filings) / wall,
            "file_p50": percentile(self.filings, 0.5) * 1000,
            "file_p95": percentile(self.filings, 0.95) * 1000,
            "search_p50": percentile(self.lookups, 0.5) * 1000,
            "search_p95": percentile(self.lookups, 0.95) * 1000,
            "searches": len(self.lookups),
            "settled": settled,
            "errors": self.errors,
        }


def run_setup(cluster: PostgresCluster, servers: int, args: argparse.Namespace) -> dict[str, Any]:
    name = f"bench_servers_{servers}_{uuid.uuid4().hex[:8]}"
    url = cluster.create_database(name)
    root = Path(tempfile.mkdtemp(prefix=f"bench-servers-{servers}-"))
    names = [f"s{i + 1}" for i in range(servers)]
    try:
        started = time.perf_counter()
        fleet = open_fleet(
            url, root, [*names, "worker"], {}, register=register, setup=base_corpus(args.base)
        )
        print(
            f"  {servers} server(s): corpus of {args.base} in {time.perf_counter() - started:.0f} s"
        )
        try:
            fleet.add_worker("worker")
            for server in names:
                fleet.add_server(server)
            wait_until_up(fleet.servers)
            # The corpus followed by the worker before the clock starts (first: a server's
            # request meeting read models far behind catches them all up itself, however long).
            head = log_head(url)
            while min(read_model_positions(url).values()) < head:
                time.sleep(0.1)
            print(f"  {servers} server(s): corpus followed {time.perf_counter() - started:.0f} s")
            for server in fleet.servers:  # the first search of a process loads jieba
                with fleet.api(server) as api:
                    api.get("/api/v1/search", params={"q": "保养"}).raise_for_status()
            rows = work_order_rows(args.docs, seed=7, month=LOAD_MONTH)
            result = Load(fleet, rows, args.clients, args.searches).run()
        except BaseException:
            print(fleet.tails(), file=sys.stderr)
            raise
        finally:
            fleet.close()
    finally:
        cluster.drop_database(name)
        shutil.rmtree(root, ignore_errors=True)
    print(f"  {servers} server(s): {args.docs} filings in {result['wall']:.1f} s")
    return result


def table(results: dict[int, dict[str, Any]]) -> str:
    rows = [
        ("filings per second", "filings_per_s", "{:.1f}"),
        ("filing p50 (ms)", "file_p50", "{:.0f}"),
        ("filing p95 (ms)", "file_p95", "{:.0f}"),
        ("search p50 (ms)", "search_p50", "{:.0f}"),
        ("search p95 (ms)", "search_p95", "{:.0f}"),
        ("searches", "searches", "{}"),
        ("load wall time (s)", "wall", "{:.1f}"),
        ("read models at head after (s)", "settled", "{:.1f}"),
    ]
    setups = sorted(results)
    head = f"{'':<32}" + "".join(f"{f'{n} server' + ('s' if n > 1 else ''):>14}" for n in setups)
    lines = [head]
    for label, key, fmt in rows:
        lines.append(f"{label:<32}" + "".join(f"{fmt.format(results[n][key]):>14}" for n in setups))
    lines.append(f"{'errors':<32}" + "".join(f"{len(results[n]['errors']):>14}" for n in setups))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=300, help="work orders filed under load")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--searches", type=int, default=2, help="searches after each filing")
    parser.add_argument("--base", type=int, default=2000, help="work orders filed beforehand")
    args = parser.parse_args()
    print(
        f"bench/servers.py: {args.docs} filings, {args.clients} clients, "
        f"{args.searches} searches per filing, {args.base} documents beforehand"
    )
    results: dict[int, dict[str, Any]] = {}
    with PostgresCluster() as cluster:
        for servers in (1, 2):
            results[servers] = run_setup(cluster, servers, args)
    print()
    print(table(results))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(machine: {os.cpu_count()} cores, load average {load} at the end)")
    for servers, result in results.items():
        for error in result["errors"][:5]:
            print(f"  {servers} server(s): {error}")
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
