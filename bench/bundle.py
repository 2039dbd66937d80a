"""Month-end bundling, end to end, next to plain WeasyPrint measured in the same run.

1. **Bundle**: a demo month of about 1,000 documents is loaded and sealed, then
   ``bundle_volume`` makes its full binding with an empty render cache: documents laid out,
   rendered in runs on every core, table of contents, merge, page numbers, manifest.
2. **Baseline**: the same documents (the same print models and templates) rendered as one HTML
   in one process by WeasyPrint, ``write_pdf`` included: no cover, contents, scans or merge.
3. **Cached**: the bundle again, its runs now read from the cache (a second binding, a reprint).
4. **Proof**: what the manifest's proofs cost inside the bundle (``build_manifest`` alone), and
   ``verify-bundle`` on the finished PDF next to its own baseline, pypdf reading the text of
   the same pages and nothing else (the check reads every page for the printed hashes).

    .venv/bin/python bench/bundle.py [--work-orders 310] [--workers N]

Goals (issue 5): the bundle >= 1.5x the baseline's pages per second on this 2-core machine,
and under 60 s for the month. Others' processes on the machine slow both alike: the load
average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader

from archive import commands
from archive.bootstrap import open_archive
from archive.bundle.check import check_bundle
from archive.bundle.layout import Layout
from archive.bundle.manifest import build_manifest
from archive.bundle.parallel import available_cores
from archive.bundle.pipeline import bundle_volume
from archive.bundle.render import chunk_job, render_part
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.integrity import load_verifier
from archive.integrity.keys import VerifierKey
from archive.queries.volumes import sealed_documents

MONTH = "2026-10"
SEALED_AT = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)  # the archive's clock after loading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-orders", type=int, default=310, help="demo month size")
    parser.add_argument("--workers", type=int, default=None, help="default: every core")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        archive = open_archive(Settings(home=Path(tmp) / "home"), clock=lambda: SEALED_AT)
        started = time.perf_counter()
        plan = generate(DemoSpec(month=MONTH, work_orders=args.work_orders))
        load(archive, plan)
        manager = next(p.username for p in plan.staff if "service_manager" in p.roles)
        volume = commands.seal_month(archive, MONTH, manager, force_reason="基准测试")
        print(
            f"month {MONTH}: {len(volume.entries)} documents sealed "
            f"(loaded in {time.perf_counter() - started:.1f} s); "
            f"{args.workers or available_cores()} workers; load average {_load()}"
        )

        started, cpu = time.perf_counter(), os.times()
        bundle = bundle_volume(archive, MONTH, "full", workers=args.workers)
        bundle_s = time.perf_counter() - started
        bundle_rate = bundle.pages / bundle_s
        used = os.times()
        workers_cpu = used.children_user + used.children_system
        workers_cpu -= cpu.children_user + cpu.children_system
        own_cpu = used.user + used.system - cpu.user - cpu.system
        print(
            f"bundle (full binding, cold cache): {bundle.pages} pages in {bundle_s:.1f} s "
            f"= {bundle_rate:.1f} pages/s, {len(bundle.pdf) / 1e6:.1f} MB "
            f"(CPU: {workers_cpu:.0f} s in workers, {own_cpu:.0f} s in this process)"
        )

        layout = Layout(archive)
        printed = [layout.document(d.kind, d.doc) for d in sealed_documents(archive, volume)]
        job = chunk_job(
            [p.model for p in printed],
            {sha: uri for p in printed for sha, uri in p.images.items()},
            archive.settings.dealer_name,
        )
        started = time.perf_counter()
        baseline = render_part(job)
        baseline_s = time.perf_counter() - started
        baseline_rate = baseline.pages / baseline_s
        print(
            f"baseline (one HTML, one process): {baseline.pages} pages in {baseline_s:.1f} s "
            f"= {baseline_rate:.1f} pages/s"
        )

        started = time.perf_counter()
        again = bundle_volume(archive, MONTH, "full", workers=args.workers)
        cached_s = time.perf_counter() - started
        assert again.pdf == bundle.pdf
        print(f"bundle again (runs cached): {cached_s:.1f} s, identical bytes")
        print(
            f"ratio: {bundle_rate / baseline_rate:.2f}x the baseline's pages/s "
            f"(goal >= 1.5x); bundle {bundle_s:.1f} s (goal < 60 s); load average {_load()}"
        )

        documents = sealed_documents(archive, volume)
        started = time.perf_counter()
        manifest = build_manifest(archive, documents, binding="full", volume=volume)
        manifest_s = time.perf_counter() - started
        events = sum(len(d["events"]) for d in manifest["documents"]) + 1
        print(
            f"manifest with proofs: {events} events in {manifest_s:.2f} s "
            f"({manifest_s / bundle_s:.1%} of the bundle)"
        )
        _time_verify(bundle.pdf, load_verifier(archive.settings))
        archive.close()


def _time_verify(pdf: bytes, key: VerifierKey | None) -> None:
    started = time.perf_counter()
    report = check_bundle(pdf, key)
    verify_s = time.perf_counter() - started
    assert report.intact, [f.message_en for f in report.findings]
    started = time.perf_counter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text()
    text_s = time.perf_counter() - started
    print(
        f"verify-bundle: {report.pages} pages, {report.events} events in {verify_s:.1f} s "
        f"= {report.pages / verify_s:.1f} pages/s; baseline (page text only) {text_s:.1f} s "
        f"= {report.pages / text_s:.1f} pages/s; ratio {text_s / verify_s:.2f}x"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
