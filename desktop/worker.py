"""One worker thread for database work, so the window never freezes.

Screens hand it plain callables (usually a CaseStore method) and get the result
back on the GUI thread through a Qt signal. The store's connection is only used
from this thread once the main window is up, so calls never interleave.

A job submitted with a `key` supersedes any earlier job with the same key that
has not run yet or whose result has not been delivered: search-as-you-type
sends a job per pause in typing and only the newest result reaches the screen.

The signals that cross from the worker thread to the GUI thread carry only the job's number and
plain values (ints, text); the result, or the error, waits on the job itself. No Python object
rides in a queued Qt event, so its reference count is never left to PySide's wrappers across
threads (a bug there, 6.12's "bool_dealloc", is why PySide6 is pinned; the suite once saw a
segfault in the collector while a worker built a return).
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

log = logging.getLogger(__name__)


class Job:
    """One piece of work. `fn` may take the job itself (with_job=True) to report progress
    and look at `cancelled()`."""

    _ids = itertools.count(1)

    def __init__(self, worker: "Worker", fn: Callable, args: tuple, kwargs: dict, key: str | None,
                 on_done: Callable | None, on_error: Callable | None, with_job: bool):
        self.id = next(self._ids)
        self.worker = worker
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.key = key
        self.on_done, self.on_error = on_done, on_error
        self.with_job = with_job
        self.superseded = False
        self.result: Any = None
        self.error: BaseException | None = None
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def progress(self, done: int, total: int, label: str = "") -> None:
        """Callable from the worker thread: the signal crosses to the GUI thread."""
        self.worker._thread.progress.emit(self.id, int(done), int(total), str(label or ""))


class _Thread(QThread):
    finished_job = Signal(int)                       # the job's number: its result or error is on the job
    progress = Signal(int, int, int, str)            # the job's number, done, total, label

    def __init__(self, parent=None):
        super().__init__(parent)
        self.jobs: queue.Queue[Job | None] = queue.Queue()

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if job.superseded:
                self.finished_job.emit(job.id)   # keeps the pending count right; dropped on delivery
                continue
            try:
                args = (job, *job.args) if job.with_job else job.args
                job.result = job.fn(*args, **job.kwargs)
            except BaseException as exc:  # delivered to the screen, never lost in this thread
                from db.errors import HTDeskError
                if not isinstance(exc, HTDeskError):
                    log.error("error in background job %s", getattr(job.fn, "__qualname__", job.fn),
                              exc_info=exc)
                job.error = exc
            self.finished_job.emit(job.id)


class Worker(QObject):
    """The GUI-side handle of the worker thread."""

    busy_changed = Signal(bool)
    progress = Signal(object, int, int, str)

    def __init__(self, parent: QObject | None = None,
                 default_error: Callable[[BaseException], None] | None = None):
        super().__init__(parent)
        self._thread = _Thread()
        self._thread.finished_job.connect(self._deliver)
        self._thread.progress.connect(self._progress)
        self._jobs: dict[int, Job] = {}          # submitted and not yet delivered, by number
        self._latest: dict[str, Job] = {}
        self._pending = 0
        self.default_error = default_error
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def submit(self, fn: Callable, *args: Any, on_done: Callable | None = None,
               on_error: Callable | None = None, key: str | None = None, with_job: bool = False,
               **kwargs: Any) -> Job:
        job = Job(self, fn, args, kwargs, key, on_done, on_error, with_job)
        if key is not None:
            old = self._latest.get(key)
            if old is not None:
                old.superseded = True
            self._latest[key] = job
        self._jobs[job.id] = job
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._thread.jobs.put(job)
        return job

    def _progress(self, job_id: int, done: int, total: int, label: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            self.progress.emit(job, done, total, label)     # on the GUI thread: the screens get the job itself

    def _deliver(self, job_id: int) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        result, exc = job.result, job.error
        job.result = job.error = None           # the screen's handler gets them; the job keeps nothing
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)
        if job.key is not None and self._latest.get(job.key) is job:
            del self._latest[job.key]
        if job.superseded:
            return  # a newer job of the same kind has been asked for: this result is stale
        if exc is not None:
            handler = job.on_error or self.default_error
            if handler is not None:
                handler(exc)
            else:
                log.error("unhandled background error", exc_info=exc)
        elif job.on_done is not None:
            job.on_done(result)

    def stop(self, timeout_ms: int = 10000) -> None:
        """Finish the job in hand and stop; queued jobs are dropped."""
        if not self._thread.isRunning():
            return
        try:
            while True:
                queued = self._thread.jobs.get_nowait()
                if queued is not None:
                    queued.superseded = True
                    queued.cancel()
        except queue.Empty:
            pass
        for job in list(self._latest.values()):
            job.cancel()
        self._thread.jobs.put(None)
        self._thread.wait(timeout_ms)
