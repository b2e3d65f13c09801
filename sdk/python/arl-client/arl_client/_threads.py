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
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

# How long exit waits for the SDK's threads in all.
EXIT_JOIN_SECONDS = 3.0

_lock = threading.Lock()
_live: dict[threading.Thread, Callable[[], object] | None] = {}
_exiting = False


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
