"""The SDK's direct-path surface against the local cluster: callbacks, handles,
pty, files, the async twin (parity of results) and the port-forward mode."""

from __future__ import annotations

import asyncio

import pytest

from arl_client import AsyncSandboxSession, SandboxSession
from arl_client.exceptions import InvalidArgumentError, PoolNotFoundError

from .conftest import NAMESPACE, sandbox_exists, session_sandboxes

pytestmark = pytest.mark.integration

STEPS = [
    {"name": "write", "type": "FilePatch", "path": "/workspace/p.py", "content": "print('parity')"},
    {"name": "run", "type": "Command", "command": ["python", "/workspace/p.py"]},
    {"name": "fail", "type": "Command", "command": ["bash", "-c", "echo oops >&2; exit 3"]},
    {"name": "never", "type": "Command", "command": ["true"]},
]


def test_run_callbacks_spawn_pty_and_files(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        lines: list[str] = []
        result = session.run("echo one; echo two >&2; exit 4", on_stdout=lines.append, on_stderr=lines.append)
        assert (result.exit_code, result.stdout, result.stderr) == (4, "one\n", "two\n")
        assert sorted(lines) == ["one\n", "two\n"]
        assert session.run(["pwd"], cwd="/workspace").stdout == "/workspace\n"
        assert session.run("echo $X", env={"X": "y"}).stdout == "y\n"

        assert session.files.write("dir/notes.txt", "hello") == 5
        assert session.files.read_text("/workspace/dir/notes.txt") == "hello"

        with session.spawn(["bash", "-c", "read v; echo got $v"]) as process:
            assert process.pid > 0
            process.send_stdin("it\n")
            assert "".join(chunk.text for chunk in process) == "got it\n"
            assert process.wait(timeout=10).exit_code == 0
        sleeper = session.spawn(["sleep", "60"])
        sleeper.kill("SIGKILL")
        assert sleeper.wait(timeout=10).signal == "SIGKILL"
        sleeper.close()

        with session.pty(["bash", "--norc", "-i"], rows=40, cols=120) as terminal:
            terminal.send_stdin("stty size; exit\n")
            assert "40 120" in "".join(chunk.text for chunk in terminal)


def test_bad_input_raises_a_typed_error_before_anything_is_sent(pool, custom):
    before = session_sandboxes(custom)
    with pytest.raises(PoolNotFoundError):
        SandboxSession("no-such-pool-arl", namespace=NAMESPACE).open()
    with pytest.raises(InvalidArgumentError):
        SandboxSession(pool, namespace=NAMESPACE, timeout=0)
    assert session_sandboxes(custom) == before
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        for call in (
            lambda: session.execute([{"name": "x", "type": "Bogus"}]),
            lambda: session.execute([{"name": "x", "type": "Command", "command": ["true"]}], timeout=0),
            lambda: session.run("true", timeout=-1),
            lambda: session.files.write("/etc/passwd", "x"),
            lambda: session.run("true", cwd="/etc"),
        ):
            with pytest.raises(InvalidArgumentError):
                call()
        tasks = custom.list_namespaced_custom_object(
            "arl.infra.io", "v1alpha1", NAMESPACE, "tasks", label_selector=f"arl.infra.io/sandbox={session.name}"
        )
        assert tasks["items"] == []


def test_async_session_is_the_sync_session_on_asyncio(pool, custom):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        sync_task = session.execute(STEPS)["status"]
        sync_direct = session.sidecar.run_steps(STEPS)["status"]
        sync_run = session.run("echo hi; exit 2")

    async def main():
        async with AsyncSandboxSession(pool, namespace=NAMESPACE) as session:
            task = (await session.execute(STEPS))["status"]
            direct = (await session.sidecar.run_steps(STEPS))["status"]
            run = await session.run("echo hi; exit 2")
            seen: list[str] = []

            async def on_stdout(text):
                seen.append(text)

            streamed = await session.run("echo a; sleep 0.2; echo b", on_stdout=on_stdout)
            await session.files.write("a.txt", "async")
            content = await session.files.read_text("a.txt")
            async with await session.spawn("cat") as process:
                await process.send_stdin("echo\n")
                await process.close_stdin()
                spawned = await process.wait(timeout=10)
            return session.name, task, direct, run, seen, streamed, content, spawned

    name, task, direct, run, seen, streamed, content, spawned = asyncio.run(main())
    keys = ("state", "exitCode", "stdout", "stderr")
    assert {k: task[k] for k in keys} == {k: sync_task[k] for k in keys}
    assert [s["state"] for s in task["steps"]] == [s["state"] for s in sync_task["steps"]]
    assert direct == sync_direct
    assert (run.stdout, run.exit_code) == (sync_run.stdout, sync_run.exit_code) == ("hi\n", 2)
    assert seen == ["a\n", "b\n"] and streamed.stdout == "a\nb\n"
    assert content == "async" and spawned.stdout == "echo\n"
    assert not sandbox_exists(custom, name)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_port_forward_mode(pool, custom, flavour):
    """connect_via="port-forward": the direct path through the API server's
    pods/portforward, as from outside the cluster; same API, same token."""
    if flavour == "sync":
        with SandboxSession(pool, namespace=NAMESPACE, connect_via="port-forward") as session:
            assert session.sidecar.base_url.startswith("http://127.0.0.1:")
            lines: list[str] = []
            result = session.run("echo via; echo tunnel >&2", on_stdout=lines.append)
            assert (result.stdout, result.stderr, lines) == ("via\n", "tunnel\n", ["via\n"])
            session.files.write("pf.txt", "x" * 100_000)
            assert len(session.files.read("pf.txt")) == 100_000
            with session.pty(["bash", "--norc", "-i"], rows=10, cols=50) as terminal:
                terminal.send_stdin("stty size; exit\n")
                assert "10 50" in "".join(chunk.text for chunk in terminal)
            name = session.name
    else:
        async def main():
            async with AsyncSandboxSession(pool, namespace=NAMESPACE, connect_via="port-forward") as session:
                assert session.sidecar.base_url.startswith("http://127.0.0.1:")
                results = await asyncio.gather(*(session.run(["echo", str(i)]) for i in range(5)))
                return session.name, [r.stdout for r in results]

        name, outputs = asyncio.run(main())
        assert outputs == [f"{i}\n" for i in range(5)]
    assert not sandbox_exists(custom, name)
