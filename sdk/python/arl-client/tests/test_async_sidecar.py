"""AsyncSidecarClient against the real arl-sidecar process (one event loop, no threads)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from arl_client.async_sidecar import AsyncSidecarClient
from arl_client.exceptions import InvalidArgumentError, SidecarError
from arl_client.sidecar import OutputChunk, ProcessEnded, ProcessStarted

from .sidecar_process import start_sidecar, stop_sidecar


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    logs = tmp_path_factory.mktemp("logs")
    running = start_sidecar(workspace, "async-test-token", logs / "sidecar.log")
    yield running
    stop_sidecar(running)


def run(coroutine):
    return asyncio.run(coroutine)


def test_execute_health_files_and_steps(server):
    async def scenario():
        async with AsyncSidecarClient(server.url, token=server.token, roots=[str(server.workspace)]) as client:
            assert await client.health() == "ok"
            result = await client.execute(["bash", "-c", "echo out; exit 2"])
            assert (result.stdout, result.exit_code) == ("out\n", 2)
            await client.files.write("a/b.txt", "content")
            assert await client.files.read_text(str(server.workspace / "a" / "b.txt")) == "content"
            steps = await client.run_steps([
                {"name": "w", "type": "FilePatch", "path": str(server.workspace / "s.sh"), "content": "echo s"},
                {"name": "r", "type": "Command", "command": ["bash", "s.sh"]},
                {"name": "x", "type": "Command", "command": ["true"]},
            ])
            assert steps["status"]["stdout"] == "s\n" and steps["status"]["state"] == "Succeeded"

    run(scenario())


def test_run_with_async_and_sync_callbacks_on_one_loop_thread(server):
    seen: list[tuple[str, str]] = []
    threads: set[int] = set()

    async def on_stdout(text):
        threads.add(threading.get_ident())
        seen.append(("out", text))

    async def scenario():
        async with AsyncSidecarClient(server.url, token=server.token, roots=[str(server.workspace)]) as client:
            result = await client.run("echo a; echo b >&2", on_stdout=on_stdout,
                                      on_stderr=lambda text: seen.append(("err", text)))
            assert (result.stdout, result.stderr, result.exit_code) == ("a\n", "b\n", 0)
            events = [event async for event in client.execute_stream(["bash", "-c", "echo x; exit 5"])]
            assert isinstance(events[0], ProcessStarted) and isinstance(events[-1], ProcessEnded)
            assert events[-1].exit_code == 5
            assert [e.text for e in events if isinstance(e, OutputChunk)] == ["x\n"]

    run(scenario())
    assert sorted(seen) == [("err", "b\n"), ("out", "a\n")]
    assert threads == {threading.get_ident()}


def test_many_concurrent_runs(server):
    async def scenario():
        async with AsyncSidecarClient(server.url, token=server.token, roots=[str(server.workspace)]) as client:
            results = await asyncio.gather(*(client.run(["echo", str(i)]) for i in range(20)))
            assert [r.stdout for r in results] == [f"{i}\n" for i in range(20)]

    run(scenario())


def test_spawn_and_pty(server):
    async def scenario():
        async with AsyncSidecarClient(server.url, token=server.token, roots=[str(server.workspace)]) as client:
            async with await client.spawn("read x; echo got $x") as process:
                assert process.pid > 0
                await process.send_stdin("y\n")
                chunks = [chunk.text async for chunk in process]
                result = await process.wait(timeout=10)
            assert "".join(chunks) == result.stdout == "got y\n"
            sleeper = await client.spawn(["sleep", "30"])
            await sleeper.kill("SIGKILL")
            assert (await sleeper.wait(timeout=10)).signal == "SIGKILL"
            await sleeper.close()
            async with await client.pty(["bash", "--norc", "-i"], rows=12, cols=34) as terminal:
                await terminal.send_stdin("stty size; exit\n")
                output = "".join([chunk.text async for chunk in terminal])
            assert "12 34" in output

    run(scenario())


def test_bad_input_and_dead_sidecar(tmp_path):
    async def bad_input():
        async with AsyncSidecarClient("http://127.0.0.1:9") as client:
            with pytest.raises(InvalidArgumentError):
                await client.run("true", timeout=0)
            with pytest.raises(InvalidArgumentError):
                await client.files.write("/etc/x", "")

    run(bad_input())
    server = start_sidecar(tmp_path, "doomed", tmp_path / "sidecar.log")

    async def dead():
        async with AsyncSidecarClient(server.url, token=server.token, roots=None) as client:
            stream = client.execute_stream(["bash", "-c", "echo first; sleep 5"])
            await anext(stream)
            server.process.kill()
            with pytest.raises(SidecarError) as caught:
                await asyncio.wait_for(_drain(stream), 10)
            assert caught.value.code == "unavailable"

    try:
        run(dead())
    finally:
        stop_sidecar(server)


async def _drain(stream):
    async for _ in stream:
        pass
