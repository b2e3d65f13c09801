"""session.files on the local cluster: the file-watch example, and a
directory's round trip (tar in, tar out) plus a streamed upload, sync and async."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arl_client import AsyncSandboxSession, SandboxSession

from .conftest import NAMESPACE, session_sandboxes

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "file_watch.py"
BIG = os.urandom(3 * 1024 * 1024)


def test_file_watch_example_prints_the_changes_as_they_happen(pool, custom):
    before = session_sandboxes(custom)
    done = subprocess.run([sys.executable, str(EXAMPLE), "--pool", pool], env=dict(os.environ),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for i in (1, 2, 3):
        assert f"create  /workspace/out/result-{i}.txt" in lines
        assert f"result-{i}.txt: 2 bytes" in lines
    assert "create  /workspace/out/done" in lines
    assert session_sandboxes(custom) <= before


def test_files_round_trip_sync_and_async(pool, tmp_path):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "big.bin").write_bytes(BIG)
    (tree / "a.txt").write_text("a")

    with SandboxSession(pool, namespace=NAMESPACE) as session:
        assert session.files.upload_dir(tree, "in").files == 2
        assert session.run("sha256sum in/sub/big.bin").stdout.split()[0] == hashlib.sha256(BIG).hexdigest()
        assert session.files.upload("up.bin", BIG).size == len(BIG)
        assert session.files.download("up.bin") == BIG
        session.files.rename("in", "moved")
        assert sorted(entry.name for entry in session.files.list("moved")) == ["a.txt", "sub"]
        assert session.files.download_dir("moved", tmp_path / "sync-out") == 3  # a.txt, sub, sub/big.bin
        assert (tmp_path / "sync-out" / "sub" / "big.bin").read_bytes() == BIG

    async def main() -> None:
        async with AsyncSandboxSession(pool, namespace=NAMESPACE) as session:
            assert (await session.files.upload_dir(tree, "in")).bytes == len(BIG) + 1
            assert await session.files.mkdir("in/new") is True
            assert (await session.files.stat("in/sub/big.bin")).size == len(BIG)
            await session.files.remove("in/a.txt")
            assert await session.files.download_dir("in", tmp_path / "async-out") == 3  # new, sub, sub/big.bin
            assert await session.files.download("in/sub/big.bin") == BIG

    asyncio.run(main())
    assert (tmp_path / "async-out" / "sub" / "big.bin").read_bytes() == BIG
    assert sorted(p.name for p in (tmp_path / "async-out").iterdir()) == ["new", "sub"]
