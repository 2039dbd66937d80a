"""Long work done in the background, with progress a page can poll (``/jobs/{id}``): month
bundles made, and bundles uploaded for checking on the verify page.

A sealed volume always renders to the same bytes, so a finished bundle is kept under
``$ARCHIVE_HOME/bundles`` and served again without rendering. A check's upload is copied to an
anonymous temporary file (gone when closed, or when the process dies) and its report is kept in
memory for the person who asked, the last ``KEPT_CHECKS`` of them.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from archive.bootstrap import Archive
from archive.bundle.pipeline import STAGE_LABELS, bundle_volume
from archive.errors import ArchiveError

log = logging.getLogger(__name__)

KEPT_CHECKS = 20
FAILED = "生成失败，请稍后重试或告诉管理员"

# (stage, done, total), as the bundle pipeline and the bundle check report it.
Progress = Callable[[str, int, int], None]


def bundle_path(archive: Archive, month: str, supplement: int, binding: str) -> Path:
    return archive.layout.bundles / f"{month}-{supplement}-{binding}.pdf"


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
        """Do ``work``; a refusal is said in Chinese, anything else logged and apologised for."""
        try:
            work()
            state, error = "done", None
        except ArchiveError as refused:
            state, error = "failed", refused.message_zh
        except Exception:
            log.exception("%s failed", what)
            state, error = "failed", FAILED
        with self.lock:
            self.state, self.error = state, error
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


@dataclass(kw_only=True)
class BundleJob(Job):
    month: str
    supplement: int
    binding: str
    labels: dict[str, str] = field(default_factory=lambda: dict(STAGE_LABELS), repr=False)

    @property
    def url(self) -> str:
        return f"/months/{self.month}/bundles/{self.supplement}/{self.binding}.pdf"


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
    """Bundles made and bundles checked, each kind one at a time (a bundle already uses every
    core, a check is pure Python); the rest wait their turn."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.jobs: dict[str, Job] = {}
        self.jobs_lock = threading.Lock()  # requests add jobs from several threads
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundles")
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checks")

    def start(self, month: str, supplement: int, binding: str) -> BundleJob:
        job = BundleJob(month=month, supplement=supplement, binding=binding)
        target = bundle_path(self.archive, month, supplement, binding)
        if target.is_file():
            job.state = "done"
            job.finished.set()
        else:
            self.executor.submit(self._bundle, job, target)
        with self.jobs_lock:
            self.jobs[job.id] = job
        return job

    def _bundle(self, job: BundleJob, target: Path) -> None:
        def work() -> None:
            made = bundle_volume(
                self.archive,
                job.month,
                job.binding,
                supplement=job.supplement,
                progress=job.progress,
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_bytes(made.pdf)
            partial.replace(target)

        job.run(work, f"bundle {job.month} {job.binding}")

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
        job = self.jobs.get(job_id)
        return job if isinstance(job, CheckJob) and job.owner == owner else None

    def _forget_old_checks(self) -> None:
        finished = [
            k for k, j in self.jobs.items() if isinstance(j, CheckJob) and j.state != "running"
        ]
        for key in finished[: max(len(finished) - KEPT_CHECKS + 1, 0)]:
            del self.jobs[key]

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.checker.shutdown(wait=False, cancel_futures=True)
