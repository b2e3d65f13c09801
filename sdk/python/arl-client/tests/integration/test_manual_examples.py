"""The manual's three SDK examples, run verbatim from examples/python/."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import EXAMPLES_DIR, session_sandboxes

pytestmark = pytest.mark.integration


def run_example(name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / name)],
        cwd=EXAMPLES_DIR, env=dict(os.environ), capture_output=True, text=True, timeout=300, check=False,
    )


def test_quick_start(pool, custom):
    before = session_sandboxes(custom)
    done = run_example("quick_start.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "output: Hello from ARL!\n\nexit code: 0\n"
    assert session_sandboxes(custom) <= before


def test_batch(pool, custom):
    before = session_sandboxes(custom)
    done = run_example("batch.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "".join(f"task {i} done\n" for i in range(5))
    assert session_sandboxes(custom) <= before


def test_error_handling(pool, custom):
    before = session_sandboxes(custom)
    done = run_example("error_handling.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "task failed: something went wrong\n\n"
    assert session_sandboxes(custom) <= before
