"""The SDK's threads end before the interpreter finalizes (arl_client._threads).

A daemon thread that comes back from pyqwest's native code during
finalization aborts the process (SIGABRT, "FATAL: exception not rethrown"):
the manual's batch example did so about 1 run in 15. These tests run a real
interpreter that exits while an SDK thread is busy.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest


@pytest.fixture
def slow_server():
    """A TCP server that holds every connection for 0.5 s, then closes it unanswered."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Timer(0.5, conn.close).start()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    server.join()
    listener.close()


def run_script(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)], capture_output=True, text=True, timeout=60, check=False
    )


def test_exit_waits_for_a_thread_inside_the_sidecar_client(slow_server):
    started = time.monotonic()
    done = run_script(f"""
        from arl_client import _threads
        from arl_client.exceptions import ArlError
        from arl_client.sidecar import SidecarClient

        def call():
            client = SidecarClient({slow_server!r})
            try:
                client.health()
            except ArlError as error:
                print("finished:", type(error).__name__, flush=True)
            finally:
                client.close()

        _threads.start("test-health", call)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("finished:"), (done.stdout, done.stderr)
    assert time.monotonic() - started >= 0.5  # exit waited for the held connection


def test_exit_stops_a_waiting_thread():
    done = run_script("""
        import threading
        from arl_client import _threads

        stopped = threading.Event()

        def wait():
            stopped.wait()
            print("stopped", flush=True)

        _threads.start("test-wait", wait, stop=stopped.set)
    """)
    assert (done.returncode, done.stdout, done.stderr) == (0, "stopped\n", "")


def test_exit_gives_up_on_a_thread_that_does_not_stop():
    started = time.monotonic()
    done = run_script("""
        import threading
        from arl_client import _threads

        _threads.EXIT_JOIN_SECONDS = 0.3
        _threads.start("test-stuck", threading.Event().wait)
    """)
    assert (done.returncode, done.stderr) == (0, "")
    assert time.monotonic() - started < 30


def test_a_finished_thread_is_forgotten():
    from arl_client import _threads

    thread = _threads.start("test-quick", lambda: None)
    thread.join()
    assert thread not in _threads.live()


def test_exit_also_joins_a_thread_started_while_stopping():
    """A watch stopped at exit may start follow-up work (a spare connection):
    that thread is stopped and joined too, and optional work sees exiting()."""
    done = run_script("""
        import threading
        from arl_client import _threads

        def late():
            threading.Event().wait(0.3)
            print("late ran; exiting", _threads.exiting(), flush=True)

        stopped = threading.Event()

        def stop():
            stopped.set()
            _threads.start("test-late", late)

        _threads.start("test-first", stopped.wait, stop=stop)
    """)
    assert (done.returncode, done.stdout, done.stderr) == (0, "late ran; exiting True\n", "")


def test_submit_returns_results_and_errors_and_reuses_an_idle_worker():
    from arl_client import _threads

    first = _threads.submit("test-job", threading.current_thread)
    worker = first.result(5)
    assert worker is not threading.current_thread()
    deadline = time.monotonic() + 5
    while _threads._idle_workers == 0 and time.monotonic() < deadline:  # the worker marks itself idle after the job
        time.sleep(0.001)
    workers = _threads._worker_count
    assert _threads.submit("test-job", lambda: threading.current_thread().name).result(5) == "test-job"
    assert _threads._worker_count == workers  # an idle worker took it: no thread started

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _threads.submit("test-fail", fail).result(5)


def test_a_job_may_wait_for_a_job_submitted_after_it():
    from arl_client import _threads

    gate = threading.Event()
    later: list = []

    def first() -> str:
        gate.wait(5)
        return later[0].result(5)

    outer = _threads.submit("test-outer", first)
    later.append(_threads.submit("test-inner", lambda: "inner"))
    gate.set()
    assert outer.result(5) == "inner"


def test_idle_workers_end_and_exit_stops_the_rest():
    done = run_script("""
        import threading, time
        from arl_client import _threads

        _threads.WORKER_IDLE_SECONDS = 0.2
        jobs = [_threads.submit("test-job", lambda: time.sleep(0.05)) for _ in range(3)]
        for job in jobs:
            job.result(5)
        time.sleep(1.0)
        print("workers left", _threads._worker_count, len([t for t in _threads.live() if t.name == "arl-worker"]))
        _threads.WORKER_IDLE_SECONDS = 60
        _threads.submit("test-job", lambda: None).result(5)
    """)
    assert (done.returncode, done.stdout, done.stderr) == (0, "workers left 0 0\n", "")


def test_a_forked_child_starts_its_own_workers():
    done = run_script("""
        import os, threading
        from arl_client import _threads

        _threads.submit("test-job", lambda: None).result(5)  # leaves an idle worker in the parent
        pid = os.fork()
        if pid == 0:
            name = _threads.submit("test-child", lambda: threading.current_thread().name).result(5)
            print("child", name, flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
    """)
    assert (done.returncode, done.stdout, done.stderr) == (0, "child test-child\n", "")
