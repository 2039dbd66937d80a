"""Month bundles made in the background, with progress a page can poll.

A sealed volume always renders to the same bytes, so a finished bundle is kept under
``$ARCHIVE_HOME/bundles`` and served again without rendering.
"""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.bootstrap import Archive
from archive.bundle.pipeline import STAGE_LABELS, bundle_volume
from archive.errors import ArchiveError

log = logging.getLogger(__name__)


def bundle_path(archive: Archive, month: str, supplement: int, binding: str) -> Path:
    return archive.layout.bundles / f"{month}-{supplement}-{binding}.pdf"


@dataclass
class Job:
    id: str
    month: str
    supplement: int
    binding: str
    state: str = "running"  # running | done | failed
    stage: str = "load"
    done: int = 0
    total: int = 0
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "id": self.id,
                "state": self.state,
                "stage": STAGE_LABELS.get(self.stage, self.stage),
                "done": self.done,
                "total": self.total,
                "error": self.error,
            }


class BundleJobs:
    """One bundle at a time (each already uses every core); the rest wait their turn."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.jobs: dict[str, Job] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundles")

    def start(self, month: str, supplement: int, binding: str) -> Job:
        job = Job(secrets.token_urlsafe(8), month, supplement, binding)
        target = bundle_path(self.archive, month, supplement, binding)
        if target.is_file():
            job.state = "done"
        else:
            self.executor.submit(self._run, job, target)
        self.jobs[job.id] = job
        return job

    def _run(self, job: Job, target: Path) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            with job.lock:
                job.stage, job.done, job.total = stage, done, total

        try:
            made = bundle_volume(
                self.archive, job.month, job.binding, supplement=job.supplement, progress=progress
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_bytes(made.pdf)
            partial.replace(target)
            with job.lock:
                job.state = "done"
        except ArchiveError as error:
            with job.lock:
                job.state, job.error = "failed", error.message_zh
        except Exception:
            log.exception("bundle %s %s failed", job.month, job.binding)
            with job.lock:
                job.state, job.error = "failed", "生成失败，请稍后重试或告诉管理员"

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
