"""Runs the real arl-sidecar binary (`serve`) on loopback for the direct-client tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from arl_client.exceptions import SidecarError
from arl_client.sidecar import SidecarClient

SDK_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = SDK_DIR.parents[2]


@dataclass
class SidecarServer:
    url: str
    token: str
    workspace: Path
    process: subprocess.Popen


def sidecar_binary() -> Path:
    """ARL_SIDECAR_BIN, or a fresh `go build` of sidecar/cmd/arl-sidecar (cached by Go)."""
    if os.environ.get("ARL_SIDECAR_BIN"):
        return Path(os.environ["ARL_SIDECAR_BIN"])
    go = shutil.which("go")
    if go is None:
        pytest.fail("these tests run the real sidecar: install Go (see go.work) or set ARL_SIDECAR_BIN")
    out = SDK_DIR / ".cache" / "bin" / "arl-sidecar"
    build = subprocess.run(
        [go, "build", "-o", str(out), "./sidecar/cmd/arl-sidecar"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )
    if build.returncode != 0:
        pytest.fail(f"go build ./sidecar/cmd/arl-sidecar failed:\n{build.stderr}")
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sidecar(workspace: Path, token: str, log_path: Path) -> SidecarServer:
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(sidecar_binary()), "serve", f"--http-addr=127.0.0.1:{port}", "--grpc-addr=",
         f"--workspace={workspace}"],
        env={**os.environ, "ARL_SIDECAR_TOKEN": token},
        stdout=log, stderr=subprocess.STDOUT,
    )
    server = SidecarServer(f"http://127.0.0.1:{port}", token, workspace, process)
    with SidecarClient(server.url, token=token) as client:
        deadline = time.monotonic() + 15
        while True:
            try:
                client.health()
                return server
            except SidecarError:
                if process.poll() is not None or time.monotonic() > deadline:
                    stop_sidecar(server)
                    pytest.fail(f"arl-sidecar did not start; log:\n{log_path.read_text()}")
                time.sleep(0.05)


def stop_sidecar(server: SidecarServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
