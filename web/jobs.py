"""Long work done in the background, with progress a page can poll (``/jobs/{id}``): month
bundles made, and bundles uploaded for checking on the verify page.

Bundle jobs are rows in the database (:mod:`archive.bundle.job_table`) and a finished bundle is
a blob: a job started on one server is polled and downloaded from any other, and one whose
server stopped is shown failed. A sealed volume always renders to the same bytes, so a bundle
is made once and served again without rendering.

Checks stay with the server that took the upload: the upload is copied to an anonymous
temporary file there (gone when closed, or when the process dies) and its report is kept in
memory for the person who asked, the last ``KEPT_CHECKS`` of them. The verify page polls the
server it posted to (``/verify-bundle?job=``); behind a load balancer without sticky sessions
a check's poll may reach another server, which says it has no such check.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from archive.bootstrap import Archive
from archive.bundle.job_table import HEARTBEAT_SECONDS, JobRow, open_job_table
from archive.bundle.pipeline import STAGE_LABELS, bundle_volume
from archive.errors import ArchiveError

log = logging.getLogger(__name__)

KEPT_CHECKS = 20
FAILED = "生成失败，请稍后重试或告诉管理员"
# A whole month in one PDF is far larger than a scan; the blob store's scan limit is not for it.
BUNDLE_MAX_BYTES = 4 * 1024**3
PROGRESS_EVERY_SECONDS = 0.5  # progress written to the database at most this often

# (stage, done, total), as the bundle pipeline and the bundle check report it.
Progress = Callable[[str, int, int], None]


def outcome(work: Callable[[], None], what: str) -> str | None:
    """Do ``work``; ``None`` when it succeeded, else what to tell the person who asked: a
    refusal in its own Chinese words, anything else logged and apologised for."""
    try:
        work()
    except ArchiveError as refused:
        return refused.message_zh
    except Exception:
        log.exception("%s failed", what)
        return FAILED
    return None


@dataclass(kw_only=True)
class Job:
    """One piece of background work and how far it got."""

    id: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    labels: dict[str, str] = field(default_factory=dict, repr=False)  # stage -> Chinese
    state: str = "running"  # running | done | failed
    stage: str = "load"
    done: int = 0
    total: int = 0
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def url(self) -> str:
        """Where the finished work is."""
        raise NotImplementedError

    def progress(self, stage: str, done: int, total: int) -> None:
        with self.lock:
            self.stage, self.done, self.total = stage, done, total

    def run(self, work: Callable[[], None], what: str) -> None:
        error = outcome(work, what)
        with self.lock:
            self.state, self.error = ("done" if error is None else "failed"), error
        self.finished.set()

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            status = {
                "id": self.id,
                "state": self.state,
                "stage": self.labels.get(self.stage, self.stage),
                "done": self.done,
                "total": self.total,
                "error": self.error,
            }
        if status["state"] == "done":
            status["url"] = self.url
        return status


@dataclass(frozen=True)
class BundleJob(JobRow):
    """A bundle job as the database has it, whichever server runs it."""

    @property
    def url(self) -> str:
        return f"/months/{self.month}/bundles/{self.supplement}/{self.binding}.pdf"

    def as_dict(self) -> dict[str, Any]:
        status = {
            "id": self.id,
            "state": self.state,
            "stage": STAGE_LABELS.get(self.stage, self.stage),
            "done": self.done,
            "total": self.total,
            "error": self.error,
        }
        if self.state == "done":
            status["url"] = self.url
        return status


@dataclass(kw_only=True)
class CheckJob(Job):
    owner: str  # only he sees the report
    filename: str
    stage: str = "waiting"
    result: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        return f"/verify-bundle?job={quote(self.id)}"


class BundleJobs:
    """Bundles made and bundles checked, each kind one at a time here (a bundle already uses
    every core, a check is pure Python); the rest wait their turn. ``render`` makes a bundle
    (the pipeline's ``bundle_volume``)."""

    def __init__(self, archive: Archive, render: Callable[..., Any] = bundle_volume) -> None:
        self.archive = archive
        self.render = render
        self.table = open_job_table(archive.settings, lambda: archive.now().timestamp())
        # Which server runs a job: the heartbeat of this process keeps its jobs alive.
        self.server = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.jobs: dict[str, Job] = {}  # the checks of this server
        self.jobs_lock = threading.Lock()  # requests add jobs from several threads
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundles")
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checks")
        self.stopped = threading.Event()
        # Started with the first bundle made here: most servers' processes never make one.
        self.heart = threading.Thread(target=self._beat, name="bundle-heartbeat", daemon=True)

    def start(self, month: str, supplement: int, binding: str) -> BundleJob:
        job_id = secrets.token_urlsafe(8)
        self.table.add(job_id, month, supplement, binding, self.server)
        job = self.get(job_id)
        assert isinstance(job, BundleJob)
        if job.state == "running":
            with self.jobs_lock:
                if not self.heart.is_alive() and not self.stopped.is_set():
                    self.heart.start()
            self.executor.submit(self._bundle, job)
        return job

    def get(self, job_id: str) -> BundleJob | CheckJob | None:
        """A check of this server, or a bundle job of any server."""
        with self.jobs_lock:
            check = self.jobs.get(job_id)
        if isinstance(check, CheckJob):
            return check
        row = self.table.get(job_id)
        return None if row is None else BundleJob(**row.__dict__)

    def bundle_file(self, month: str, supplement: int, binding: str) -> Path | None:
        """The finished bundle as a file on this machine, or ``None`` when not made yet."""
        sha256 = self.table.made(month, supplement, binding)
        return None if sha256 is None else self.archive.blobs.local_path(sha256)

    def _bundle(self, job: BundleJob) -> None:
        written = [0.0, ""]  # when progress was last written, and at which stage

        def progress(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if stage != written[1] or done == total or now - written[0] >= PROGRESS_EVERY_SECONDS:
                written[:] = [now, stage]
                self.table.progress(job.id, stage, done, total)

        made: list[str] = []

        def work() -> None:
            bundle = self.render(
                self.archive, job.month, job.binding, supplement=job.supplement, progress=progress
            )
            made.append(self.archive.blobs.put_bytes(bundle.pdf, BUNDLE_MAX_BYTES).sha256)

        error = outcome(work, f"bundle {job.month} {job.binding}")
        self.table.finish(job, error, made[0] if made and error is None else None)

    def _beat(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                self.table.beat(self.server)
            except Exception:  # the database away for a moment: the next beat may reach it
                log.exception("bundle job heartbeat failed")

    def check(
        self,
        upload: IO[bytes],
        owner: str,
        filename: str,
        work: Callable[[IO[bytes], Progress], dict[str, Any]],
        labels: dict[str, str],
    ) -> CheckJob:
        """Check an uploaded bundle with ``work`` (which reports progress and returns what the
        page shows); the upload is copied first, as the request's own file closes with it."""
        # Closed by the job once the check has run (an anonymous file: no name left behind).
        copy = tempfile.TemporaryFile(prefix="archive-check-")  # noqa: SIM115
        try:
            shutil.copyfileobj(upload, copy, 1024 * 1024)
            copy.seek(0)
        except BaseException:
            copy.close()
            raise
        job = CheckJob(owner=owner, filename=filename, labels={"waiting": "排队等候", **labels})
        with self.jobs_lock:
            self._forget_old_checks()
            self.jobs[job.id] = job
        self.checker.submit(self._check, job, copy, work)
        return job

    def _check(
        self,
        job: CheckJob,
        copy: IO[bytes],
        work: Callable[[IO[bytes], Progress], dict[str, Any]],
    ) -> None:
        def run() -> None:
            job.result = work(copy, job.progress)

        try:
            job.run(run, f"check of {job.filename}")
        finally:
            copy.close()

    def check_of(self, job_id: str, owner: str) -> CheckJob | None:
        with self.jobs_lock:
            job = self.jobs.get(job_id)
        return job if isinstance(job, CheckJob) and job.owner == owner else None

    def _forget_old_checks(self) -> None:
        finished = [
            k for k, j in self.jobs.items() if isinstance(j, CheckJob) and j.state != "running"
        ]
        for key in finished[: max(len(finished) - KEPT_CHECKS + 1, 0)]:
            del self.jobs[key]

    def close(self) -> None:
        self.stopped.set()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.checker.shutdown(wait=False, cancel_futures=True)
        if self.heart.is_alive():
            self.heart.join()
        self.table.close()
