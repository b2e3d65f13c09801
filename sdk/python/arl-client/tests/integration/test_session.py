"""SandboxSession against the local cluster: errors, clean-up, concurrency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from arl_client import _plan, kube, shared_watch
from arl_client.exceptions import (
    PoolNotFoundError,
    SidecarAuthError,
    TaskRejectedError,
    TaskTimeoutError,
)
from arl_client.session import SandboxSession
from arl_client.sidecar import SidecarClient

from .conftest import NAMESPACE, sandbox_exists, session_sandboxes

pytestmark = pytest.mark.integration

HELLO = [
    {"name": "write", "type": "FilePatch", "path": "/workspace/hello.py", "content": "print('Hello from ARL!')"},
    {"name": "run", "type": "Command", "command": ["python", "/workspace/hello.py"]},
]


def test_execute_returns_the_task_as_a_dict(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        result = session.execute(HELLO)
    assert result["kind"] == "Task"
    assert result["spec"]["sandboxRef"] == session.name
    assert result["status"]["state"] == "Succeeded"
    assert result["status"]["stdout"] == "Hello from ARL!\n"
    assert result["status"]["exitCode"] == 0


def test_empty_output_fields_are_present(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        result = session.execute([{"name": "quiet", "type": "Command", "command": ["test", "-f", "/nonexistent"]}])
    assert result["status"]["state"] == "Failed"
    assert (result["status"]["stdout"], result["status"]["stderr"], result["status"]["exitCode"]) == ("", "", 1)


def test_failed_step_comes_back_as_a_failed_task(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        result = session.execute([
            {"name": "check", "type": "Command", "command": ["test", "-f", "/workspace/config.json"]},
            {"name": "use", "type": "Command", "command": ["cat", "/workspace/config.json"]},
        ])
    status = result["status"]
    assert (status["state"], status["exitCode"]) == ("Failed", 1)
    assert [s["state"] for s in status["steps"]] == ["Failed", "Skipped"]


def test_tasks_share_the_workspace_and_env_and_workdir_apply(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        session.execute([{"name": "w", "type": "FilePatch", "path": "/workspace/app.py",
                          "content": "import os\nprint(os.getenv('APP_ENV'), os.getcwd())\n"}])
        result = session.execute([{"name": "r", "type": "Command", "command": ["python", "app.py"],
                                   "env": {"APP_ENV": "production"}}])
    assert result["status"]["stdout"] == "production /workspace\n"


def test_task_timeout_raises_timeout_error(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            session.execute([{"name": "slow", "type": "Command", "command": ["sleep", "30"]}], timeout="2s")
        assert time.monotonic() - started < 15
    assert isinstance(caught.value, TaskTimeoutError)
    assert caught.value.task["status"]["reason"] == "Timeout"


def test_sdk_wait_timeout_raises_timeout_error(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        with pytest.raises(TaskTimeoutError, match="not finished after 1s"):
            session.execute([{"name": "slow", "type": "Command", "command": ["sleep", "20"]}],
                            timeout="30s", wait_timeout=1)


def test_rejected_task_raises_with_the_api_servers_message(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        with pytest.raises(TaskRejectedError) as caught:
            session.execute([{"name": "escape", "type": "FilePatch", "path": "/etc/arl-escape", "content": "x"}])
    assert isinstance(caught.value, RuntimeError)
    # The path rule is CEL on the Task type: the API server's schema refuses it (422).
    assert caught.value.status == 422
    assert "is invalid" in caught.value.message
    assert "/workspace" in caught.value.message


def test_missing_pool_raises_and_leaves_nothing(custom):
    before = session_sandboxes(custom)
    with pytest.raises(PoolNotFoundError, match="no-such-pool-arl") as caught:
        with SandboxSession("no-such-pool-arl", namespace=NAMESPACE):
            pass
    assert isinstance(caught.value, RuntimeError)
    assert session_sandboxes(custom) <= before


def test_sandbox_is_gone_after_the_with_block(pool, custom):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        session.execute(HELLO)
        assert sandbox_exists(custom, session.name)
        assert session.sandbox["spec"]["keepAlive"] is True
    assert not sandbox_exists(custom, session.name)
    tasks = custom.list_namespaced_custom_object(
        kube.GROUP, kube.VERSION, NAMESPACE, kube.TASKS, label_selector=f"arl.infra.io/sandbox={session.name}"
    )
    assert tasks["items"] == []


def test_sandbox_is_gone_after_an_exception(pool, custom):
    with pytest.raises(KeyError):
        with SandboxSession(pool, namespace=NAMESPACE) as session:
            assert sandbox_exists(custom, session.name)
            raise KeyError("boom")
    assert not sandbox_exists(custom, session.name)


def test_sandbox_is_gone_after_ctrl_c(pool, custom, tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(
        "import faulthandler, signal\n"
        # Ctrl-C raises KeyboardInterrupt even when the parent ignores SIGINT
        # (Python keeps an ignored SIGINT ignored); SIGUSR1 dumps every
        # thread's stack, for the failure message below.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "faulthandler.register(signal.SIGUSR1)\n"
        "from arl_client.session import SandboxSession\n"
        f"with SandboxSession({pool!r}, namespace={NAMESPACE!r}) as session:\n"
        "    print(session.name, flush=True)\n"
        "    session.execute([{'name': 'slow', 'type': 'Command', 'command': ['sleep', '60']}], timeout='90s')\n"
    )
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    name = process.stdout.readline().strip()
    assert name, "the script printed no sandbox name"
    assert sandbox_exists(custom, name)
    time.sleep(0.5)  # let execute() reach its watch
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=45)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(1)
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the session did not end within 45 s of Ctrl-C; its threads were:\n{stderr}")
    assert code != 0
    assert not sandbox_exists(custom, name)


def test_keep_alive_leaves_the_sandbox_for_reuse(pool, custom):
    with SandboxSession(pool, namespace=NAMESPACE, keep_alive=True) as first:
        first.execute([{"name": "w", "type": "FilePatch", "path": "/workspace/state.txt", "content": "kept"}])
    try:
        assert sandbox_exists(custom, first.name)
        with SandboxSession(pool, namespace=NAMESPACE, name=first.name) as second:
            result = second.execute([{"name": "r", "type": "Command", "command": ["cat", "/workspace/state.txt"]}])
            assert result["status"]["stdout"] == "kept"
        assert sandbox_exists(custom, first.name), "an attached session must not delete the sandbox"
    finally:
        custom.delete_namespaced_custom_object(kube.GROUP, kube.VERSION, NAMESPACE, kube.SANDBOXES, first.name)


def test_twenty_concurrent_sessions(pool, custom):
    before = session_sandboxes(custom)

    def run(i):
        with SandboxSession(pool, namespace=NAMESPACE, timeout=180) as session:
            result = session.execute([{"name": "echo", "type": "Command", "command": ["echo", f"session {i}"]}])
            return session.name, result["status"]["stdout"]

    with ThreadPoolExecutor(max_workers=20) as executor:
        outcomes = list(executor.map(run, range(20)))
    assert [stdout for _, stdout in outcomes] == [f"session {i}\n" for i in range(20)]
    assert len({name for name, _ in outcomes}) == 20
    assert session_sandboxes(custom) <= before


def test_sessions_share_the_process_watches_and_read_tokens_from_them(pool, custom):
    """Sessions on the shared ApiClient wait on the process's watches (one per
    kind, selected by the process's client label) and take the sidecar token
    from the watch of the pool's token Secrets, with no request of their own."""
    api_client = kube.shared_api_client()
    with SandboxSession(pool, namespace=NAMESPACE) as first:
        assert first.run(["true"]).exit_code == 0
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        labels = session.sandbox["metadata"]["labels"]
        assert labels[_plan.CLIENT_LABEL] == _plan.client_id()
        secrets = shared_watch.for_process(
            api_client, NAMESPACE, shared_watch.SECRETS, _plan.pool_secrets_selector(pool), keep_all=True
        )
        assert secrets.get(session.pod_name) is not None, "the pool's token Secret is not in the process's watch"
        assert session._token is not None and session._token.done()  # known at Ready: nothing was read
        assert session.run(["echo", "direct"]).stdout == "direct\n"
        result = session.execute([{"name": "echo", "type": "Command", "command": ["echo", "task"]}])
        assert result["metadata"]["labels"][_plan.CLIENT_LABEL] == _plan.client_id()
        assert result["status"]["stdout"] == "task\n"
        tasks = shared_watch.for_process(api_client, NAMESPACE, "tasks")
        assert session._watcher is not None and session._watcher.result() is tasks


STEP_SETS = [
    HELLO,
    [{"name": "fail", "type": "Command", "command": ["bash", "-c", "echo out; echo err >&2; exit 3"]},
     {"name": "never", "type": "Command", "command": ["echo", "never"]}],
    [{"name": "env", "type": "Command", "command": ["bash", "-c", "echo $A-$(pwd)"], "env": {"A": "x"},
      "workDir": "/tmp"}],
]


@pytest.mark.parametrize("steps", STEP_SETS, ids=["hello", "failing", "env-workdir"])
def test_direct_path_gives_the_task_path_result(pool, steps):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        task = session.execute(steps)["status"]
        direct = session.sidecar.run_steps(steps)["status"]
    for key in ("state", "exitCode", "stdout", "stderr"):
        assert direct[key] == task[key], key
    assert [(s["name"], s["state"]) for s in direct["steps"]] == [(s["name"], s["state"]) for s in task["steps"]]


def test_direct_path_execute_stream_and_files(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        sidecar = session.sidecar
        sidecar.write_file("/workspace/data.txt", "direct")
        assert sidecar.read_file("/workspace/data.txt") == b"direct"
        assert sidecar.execute(["cat", "data.txt"]).stdout == "direct"
        chunks = [e.text for e in sidecar.execute_stream(["bash", "-c", "echo a; echo b"]) if hasattr(e, "text")]
        assert "".join(chunks) == "a\nb\n"
        background = sidecar.execute(["sleep", "60"], background=True)
        assert background.pid in [p.pid for p in sidecar.list_processes()]
        assert sidecar.signal(background.pid, "SIGKILL").success
        assert sidecar.reset(preserve_files=False).success


def test_sidecar_refuses_calls_without_the_token(pool):
    with SandboxSession(pool, namespace=NAMESPACE) as session:
        with SidecarClient(f"http://{session.pod_ip}:8080") as anonymous:
            with pytest.raises(SidecarAuthError):
                anonymous.execute(["true"])


def test_async_session(pool, custom):
    import asyncio

    from arl_client import AsyncSandboxSession

    async def main():
        async with AsyncSandboxSession(pool, namespace=NAMESPACE) as session:
            results = await asyncio.gather(*(
                session.execute([{"name": "echo", "type": "Command", "command": ["echo", str(i)]}]) for i in range(3)
            ))
            return session.name, [r["status"]["stdout"] for r in results]

    name, outputs = asyncio.run(main())
    assert outputs == ["0\n", "1\n", "2\n"]
    assert not sandbox_exists(custom, name)
