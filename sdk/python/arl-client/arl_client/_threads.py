"""The SDK's daemon threads, stopped and joined before the interpreter finalizes.

A daemon thread that returns from the sidecar client's native code (pyqwest,
Rust) while Python finalizes aborts the whole process with "FATAL: exception
not rethrown" (SIGABRT): finalization ends such a thread with a forced unwind,
and the Rust frames' catch_unwind stops it. A script that ends right after a
session closes (the manual's batch example) hit this about 1 run in 15. So at
exit, before finalization starts, every live SDK thread is asked to stop and
is joined.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

logger = logging.getLogger(__name__)

# How long exit waits for the SDK's threads in all.
EXIT_JOIN_SECONDS = 3.0

_lock = threading.Lock()
_live: dict[threading.Thread, Callable[[], object] | None] = {}
_exiting = False

T = TypeVar("T")

# Short background jobs (a session's token read, connect, warm-up) run on
# pooled worker threads: starting a thread costs its starter a GIL hand-off
# (0.1 ms idle, 1-2 ms beside busy threads), on the path of open().
WORKER_IDLE_SECONDS = 10.0
_jobs: queue.SimpleQueue[tuple[str, Callable[[], None]] | None] = queue.SimpleQueue()
_idle_workers = 0
_worker_count = 0


def start(name: str, target: Callable[[], object], stop: Callable[[], object] | None = None) -> threading.Thread:
    """Starts ``target`` on a daemon thread that exit stops (``stop``) and joins."""

    def run() -> None:
        try:
            target()
        finally:
            with _lock:
                _live.pop(thread, None)

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _lock:
        _live[thread] = stop
    thread.start()
    return thread


def submit(name: str, work: Callable[[], T]) -> Future[T]:
    """Runs ``work`` on a pooled SDK worker thread (named ``name`` while it
    runs); the Future holds its result or error. Never queues behind a busy
    worker: with none idle, a new one starts, so jobs may wait on each other."""
    future: Future[T] = Future()

    def job() -> None:
        try:
            future.set_result(work())
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits on the future
            future.set_exception(error)

    global _idle_workers, _worker_count  # noqa: PLW0603 - the pool's counters, under _lock
    with _lock:
        spawn = _idle_workers == 0
        if spawn:
            _worker_count += 1
        else:
            _idle_workers -= 1  # this job is that worker's
    _jobs.put((name, job))
    if spawn:
        start("arl-worker", _work, stop=lambda: _jobs.put(None))
    return future


def _work() -> None:
    global _idle_workers, _worker_count  # noqa: PLW0603 - the pool's counters, under _lock
    thread = threading.current_thread()
    while True:
        try:
            item = _jobs.get(timeout=WORKER_IDLE_SECONDS)
        except queue.Empty:
            with _lock:
                if _idle_workers == 0:
                    continue  # a job was just promised to an idle worker: maybe this one
                _idle_workers -= 1
                _worker_count -= 1
            return
        if item is None:
            with _lock:
                _worker_count -= 1
            return
        name, job = item
        thread.name = name
        job()
        thread.name = "arl-worker"
        with _lock:
            _idle_workers += 1


def _forget_in_child() -> None:
    """A forked child has none of its parent's threads: it starts its own."""
    global _jobs, _idle_workers, _worker_count, _lock  # noqa: PLW0603 - the child's fresh state
    _lock = threading.Lock()
    _live.clear()
    _jobs = queue.SimpleQueue()
    _idle_workers = _worker_count = 0


os.register_at_fork(after_in_child=_forget_in_child)


def live() -> list[threading.Thread]:
    """The SDK threads still running."""
    with _lock:
        return list(_live)


def exiting() -> bool:
    """Exit has begun stopping the SDK's threads: start no optional work."""
    return _exiting


@atexit.register
def finish(timeout: float | None = None) -> None:
    """Stops and joins the SDK's threads, for at most ``timeout`` seconds
    (EXIT_JOIN_SECONDS); atexit runs it before finalization. A thread that
    one of them starts while stopping is stopped and joined as well."""
    global _exiting  # noqa: PLW0603 - set once, at exit
    _exiting = True
    deadline = time.monotonic() + (EXIT_JOIN_SECONDS if timeout is None else timeout)
    stopped: set[threading.Thread] = set()
    while True:
        with _lock:
            running = list(_live.items())
        if not running:
            break
        for thread, stop in running:
            if stop is not None and thread not in stopped:
                try:
                    stop()
                except Exception as error:  # noqa: BLE001 - exit goes on; the thread is joined below
                    logger.debug("stopping %s at exit failed: %s", thread.name, error)
            stopped.add(thread)
        for thread, _ in running:
            thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            break
    left = [thread.name for thread in live()]
    if left:
        logger.debug("SDK threads still running at exit: %s", ", ".join(left))
