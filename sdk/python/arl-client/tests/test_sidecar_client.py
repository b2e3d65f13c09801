"""SidecarClient (the direct path) against the real arl-sidecar process."""

from __future__ import annotations

import pytest

from arl_client.exceptions import SidecarAuthError, SidecarError, TaskTimeoutError
from arl_client.sidecar import OutputChunk, ProcessEnded, ProcessStarted, SidecarClient

from .sidecar_process import start_sidecar, stop_sidecar


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    logs = tmp_path_factory.mktemp("logs")
    running = start_sidecar(workspace, "unit-test-token", logs / "sidecar.log")
    yield running
    stop_sidecar(running)


@pytest.fixture
def sidecar(server):
    with SidecarClient(server.url, token=server.token) as client:
        yield client


def test_health(sidecar):
    assert sidecar.health() == "ok"


def test_execute_returns_output_and_exit_code(sidecar):
    result = sidecar.execute(["bash", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.stdout, result.stderr, result.exit_code, result.done) == ("out\n", "err\n", 3, True)
    assert result.to_dict()["exit_code"] == 3


def test_execute_env_working_dir_and_stdin(sidecar, server):
    (server.workspace / "sub").mkdir(exist_ok=True)
    result = sidecar.execute(
        ["bash", "-c", 'echo "$GREETING $(pwd)"; cat'],
        working_dir=str(server.workspace / "sub"),
        env={"GREETING": "hello"},
        stdin="from stdin",
    )
    assert result.stdout == f"hello {server.workspace / 'sub'}\nfrom stdin"


def test_execute_default_working_dir_is_the_workspace(sidecar, server):
    assert sidecar.execute(["pwd"]).stdout.strip() == str(server.workspace)


def test_execute_timeout_kills_the_process(sidecar):
    result = sidecar.execute(["sleep", "30"], timeout=1)
    assert result.timed_out
    assert result.exit_code != 0


def test_missing_program_gives_127_or_an_error(sidecar):
    try:
        result = sidecar.execute(["no-such-program-arl"])
    except SidecarError as error:
        assert "no-such-program-arl" in str(error)
    else:
        assert result.exit_code == 127


def test_execute_stream_yields_start_chunks_end(sidecar):
    events = list(sidecar.execute_stream(["bash", "-c", "echo a; sleep 0.1; echo b >&2; exit 4"]))
    assert isinstance(events[0], ProcessStarted) and events[0].pid > 0
    assert isinstance(events[-1], ProcessEnded) and events[-1].exit_code == 4
    chunks = [event for event in events if isinstance(event, OutputChunk)]
    assert "".join(c.text for c in chunks if c.stream == "stdout") == "a\n"
    assert "".join(c.text for c in chunks if c.stream == "stderr") == "b\n"


def test_background_process_list_get_and_signal(sidecar):
    started = sidecar.execute(["bash", "-c", "echo started; exec sleep 30"], background=True)
    assert started.done is False and started.pid > 0
    assert started.pid in [p.pid for p in sidecar.list_processes()]
    signalled = sidecar.signal(started.pid, "SIGTERM")
    assert signalled.success, signalled.message
    info, stdout, _ = sidecar.get_process(started.pid)
    assert info.pid == started.pid
    assert info.command[0] == "bash"


def test_files_round_trip(sidecar, server):
    path = str(server.workspace / "dir" / "data.bin")
    sizes = sidecar.write_files({path: b"\x00\x01payload"})
    assert sizes == {path: 9}
    assert sidecar.read_file(path) == b"\x00\x01payload"
    assert sidecar.execute(["cat", path]).stdout == "\x00\x01payload"


def test_read_missing_file_is_a_sidecar_error(sidecar, server):
    with pytest.raises(SidecarError) as caught:
        sidecar.read_file(str(server.workspace / "missing.txt"))
    assert caught.value.code == "not_found"


def test_file_outside_the_workspace_is_refused(sidecar):
    with pytest.raises(SidecarError):
        sidecar.write_file("/etc/arl-should-not-exist", "x")


def test_reset_ends_processes_and_can_wipe_files(sidecar, server):
    sidecar.execute(["sleep", "30"], background=True)
    sidecar.write_file(str(server.workspace / "keep.txt"), "x")
    kept = sidecar.reset(preserve_files=True)
    assert kept.success and kept.processes_killed >= 1
    assert (server.workspace / "keep.txt").exists()
    wiped = sidecar.reset(preserve_files=False)
    assert wiped.success
    assert not (server.workspace / "keep.txt").exists()


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_wrong_or_missing_token_is_refused(server, token):
    with SidecarClient(server.url, token=token) as client:
        with pytest.raises(SidecarAuthError):
            client.execute(["true"])
        assert client.health() == "ok"  # health needs no token


def test_command_must_be_an_argv_list(sidecar):
    with pytest.raises(ValueError, match="argv list"):
        sidecar.execute("echo hi")


def test_run_steps_matches_the_task_semantics(sidecar, server):
    result = sidecar.run_steps([
        {"name": "write", "type": "FilePatch", "path": str(server.workspace / "hello.py"),
         "content": "print('Hello from ARL!')"},
        {"name": "run", "type": "Command", "command": ["python", "hello.py"]},
        {"name": "again", "type": "Command", "command": ["python", str(server.workspace / "hello.py")]},
    ])
    status = result["status"]
    assert status["state"] == "Succeeded"
    assert status["exitCode"] == 0
    assert status["stdout"] == "Hello from ARL!\nHello from ARL!\n"
    assert [s["state"] for s in status["steps"]] == ["Succeeded"] * 3


def test_run_steps_stops_at_the_first_failing_step(sidecar):
    status = sidecar.run_steps([
        {"name": "check", "type": "Command", "command": ["test", "-f", "/nonexistent/config.json"]},
        {"name": "use", "type": "Command", "command": ["echo", "must not run"]},
    ])["status"]
    assert status["state"] == "Failed"
    assert status["exitCode"] == 1
    assert "must not run" not in status["stdout"]
    assert [(s["name"], s["state"]) for s in status["steps"]] == [("check", "Failed"), ("use", "Skipped")]


def test_run_steps_timeout_raises(sidecar):
    with pytest.raises(TaskTimeoutError):
        sidecar.run_steps([{"name": "slow", "type": "Command", "command": ["sleep", "10"]}], timeout="1s")


def test_run_steps_marks_later_steps_skipped_and_explains_refused_files(sidecar):
    status = sidecar.run_steps([
        {"name": "escape", "type": "FilePatch", "path": "/etc/arl-escape.txt", "content": "x"},
        {"name": "after", "type": "Command", "command": ["true"]},
    ])["status"]
    assert status["state"] == "Failed"
    assert status["exitCode"] == -1
    assert "arl: step 'escape' could not run" in status["stderr"]
    assert [(s["name"], s["state"]) for s in status["steps"]] == [("escape", "Failed"), ("after", "Skipped")]
