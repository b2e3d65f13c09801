"""The SDK's own examples on the local cluster, and a built wheel in a fresh venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLES_DIR, session_sandboxes

pytestmark = pytest.mark.integration

SDK_DIR = Path(__file__).resolve().parents[2]
SDK_EXAMPLES = SDK_DIR / "examples"


def run(argv: list[str], timeout: float = 300, cwd: Path = SDK_DIR) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=dict(os.environ), capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_streaming_build_log_prints_lines_as_they_come(pool, custom):
    before = session_sandboxes(custom)
    done = run([sys.executable, str(SDK_EXAMPLES / "streaming_build_log.py"), "--pool", pool])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("exit code 0 after ")
    stamps = [float(line.split("s ", 1)[0]) for line in lines if "| [" in line]
    assert len(stamps) == 8
    assert stamps[-1] - stamps[0] > 0.6  # printed while the build ran, not all at its end
    assert session_sandboxes(custom) <= before


def test_rl_loop_runs_episodes_concurrently(pool, custom):
    before = session_sandboxes(custom)
    done = run([sys.executable, str(SDK_EXAMPLES / "rl_loop.py"), "--pool", pool,
                "--episodes", "6", "--concurrency", "6"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 episodes in" in done.stdout and "mean reward 1.00, 0 failed" in done.stdout
    assert session_sandboxes(custom) <= before


def test_built_wheel_installs_in_a_fresh_venv_and_runs_the_quick_start(pool, tmp_path):
    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(SDK_DIR)], timeout=600)
    assert built.returncode == 0, built.stderr
    wheels = list(dist.glob("arl_client-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheels[0])],
                    timeout=900)
    assert installed.returncode == 0, installed.stderr
    typed = run([str(python), "-c", "import arl_client, pathlib; "
                 "print((pathlib.Path(arl_client.__file__).parent / 'py.typed').exists())"], cwd=tmp_path)
    assert typed.stdout.strip() == "True", typed.stderr
    done = run([str(python), str(EXAMPLES_DIR / "quick_start.py")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "output: Hello from ARL!\n\nexit code: 0\n"
