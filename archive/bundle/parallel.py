"""Rendering jobs on every core, with the cache in front.

WeasyPrint is single-threaded pure Python for most of its work, so parallel means processes.
Workers are forked from this process when it runs no other thread (the command line): they
start with WeasyPrint already imported. A process with threads (the web server) must not fork
(a lock held by another thread would stay locked in the child), so it uses a fork server.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from types import TracebackType

from archive.bundle.cache import RenderCache
from archive.bundle.render import RenderedPart, RenderJob, render_part

Progress = Callable[[int, int], None]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class RenderPool:
    """Renders batches of jobs; the worker processes live until the pool is closed."""

    def __init__(self, cache: RenderCache | None, workers: int | None = None) -> None:
        self.cache = cache
        self.workers = max(1, workers or available_cores())
        self._executor: Executor | None = None

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def render(
        self, jobs: Sequence[RenderJob], progress: Progress | None = None
    ) -> list[RenderedPart]:
        """Every job's rendering, in order; cached ones are read, the others rendered."""
        results: list[RenderedPart | None] = [None] * len(jobs)
        missing = []
        for index, job in enumerate(jobs):
            hit = self.cache.get(job.cache_key) if self.cache and job.cache_key else None
            if hit is None:
                missing.append(index)
            else:
                results[index] = hit
        done = len(jobs) - len(missing)
        if progress is not None:
            progress(done, len(jobs))
        for index, part in self._run([jobs[i] for i in missing], missing):
            results[index] = part
            key = jobs[index].cache_key
            if self.cache is not None and key:
                self.cache.put(key, part)
            done += 1
            if progress is not None:
                progress(done, len(jobs))
        return [r for r in results if r is not None]

    def _run(self, jobs: list[RenderJob], indexes: list[int]) -> Iterator[tuple[int, RenderedPart]]:
        if self.workers == 1 or len(jobs) <= 1:
            # One job gains nothing from another process, and starting one costs a second.
            for index, job in zip(indexes, jobs, strict=True):
                yield index, render_part(job)
            return
        executor = self._pool()
        # Longest first: the workers then finish at about the same time.
        ordered = sorted(zip(indexes, jobs, strict=True), key=lambda pair: -pair[1].size)
        futures = {executor.submit(render_part, job): i for i, job in ordered}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def _pool(self) -> Executor:
        if self._executor is None:
            method = "fork" if threading.active_count() == 1 else "forkserver"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(["archive.bundle.render"])
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._executor
