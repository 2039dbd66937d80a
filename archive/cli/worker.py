"""``archive worker``: keeps every read model caught up with the event log.

Any number of workers (and servers following the log themselves) may run against one archive:
a projection is written by whoever holds its lock at the moment, the others skip it that round
(``ProjectionBusy``), so no event is applied twice. A worker killed mid-batch loses nothing:
the batch's rows and position are rolled back together and applied again by the next one.
SIGTERM and SIGINT stop it between batches.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from archive.cli._shared import opened, read_models
from archive.errors import BadInput
from projections.runner import DEFAULT_BATCH

if TYPE_CHECKING:
    from archive.bootstrap import ReadModels

log = logging.getLogger("archive.worker")


def register(root: typer.Typer) -> None:
    root.command()(worker)


def worker(
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls.")] = 0.5,
    once: Annotated[
        bool, typer.Option("--once", help="Catch up every read model once, then exit.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Follow only this read model (repeatable)."),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, help="Events per transaction of a read model."),
    ] = DEFAULT_BATCH,
) -> None:
    """Keep the read models caught up with the log until stopped (SIGTERM, Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()

    def stopping(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping after the current batch", signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    with opened() as archive, read_models(archive, wait=False) as models:
        names = list(only or models.runner.projections)
        unknown = [n for n in names if n not in models.runner.projections]
        if unknown:
            known = ", ".join(models.runner.projections)
            raise BadInput("unknown_projection", f"没有投影“{unknown[0]}”：{known}", known)
        models.runner.batch_size = batch_size
        log.info("worker started: %s (%s)", ", ".join(names), archive.settings.backend)
        while not stop.is_set():
            started = time.monotonic()
            applied = models.runner.follow_once(names, stop)
            if any(applied.values()):
                head = archive.app.head()
                done = ", ".join(f"{n} +{k}" for n, k in applied.items() if k)
                log.info("applied %s in %.1fs (head %d)", done, time.monotonic() - started, head)
            if once and _caught_up(models, names):
                break
            stop.wait(interval)
        log.info("worker stopped")


def _caught_up(models: ReadModels, names: list[str]) -> bool:
    head = models.runner.reader.head()
    return all(models.runner.projections[n].position() >= head for n in names)
