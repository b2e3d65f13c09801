"""run / spawn / pty and the argument checks, against the real arl-sidecar process."""

from __future__ import annotations

import time

import pytest

from arl_client.exceptions import InvalidArgumentError, SidecarError
from arl_client.sidecar import SidecarClient

from .sidecar_process import start_sidecar, stop_sidecar


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    logs = tmp_path_factory.mktemp("logs")
    running = start_sidecar(workspace, "run-test-token", logs / "sidecar.log")
    yield running
    stop_sidecar(running)


@pytest.fixture
def sidecar(server):
    with SidecarClient(server.url, token=server.token, roots=[str(server.workspace)]) as client:
        yield client


def test_run_calls_back_with_output_as_it_comes(sidecar):
    seen: list[tuple[str, float]] = []
    started = time.monotonic()
    result = sidecar.run(
        "echo one; sleep 0.5; echo two >&2; exit 3",
        on_stdout=lambda text: seen.append((text, time.monotonic() - started)),
        on_stderr=lambda text: seen.append(("err:" + text, time.monotonic() - started)),
    )
    assert (result.stdout, result.stderr, result.exit_code, result.done) == ("one\n", "two\n", 3, True)
    assert result.pid > 0 and result.duration_ms >= 500
    assert [text for text, _ in seen] == ["one\n", "err:two\n"]
    assert seen[0][1] < seen[1][1] - 0.3  # the first line arrived before the process ended


def test_run_takes_argv_env_and_cwd(sidecar, server):
    (server.workspace / "sub").mkdir(exist_ok=True)
    result = sidecar.run(["bash", "-c", 'echo "$GREETING $(pwd)"'], env={"GREETING": "hi"}, cwd="sub")
    assert result.stdout == f"hi {server.workspace / 'sub'}\n"


def test_run_timeout_kills(sidecar):
    result = sidecar.run(["sleep", "30"], timeout=1)
    assert result.timed_out and result.exit_code != 0


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda c: c.run("true", timeout=0), "timeout"),
        (lambda c: c.run("true", timeout=-1), "timeout"),
        (lambda c: c.run("true", cwd="/etc"), "cwd"),
        (lambda c: c.run("true", cwd="../.."), "cwd"),
        (lambda c: c.run([]), "command"),
        (lambda c: c.run("true", env={"A": 1}), "env"),
        (lambda c: c.files.write("/etc/passwd", "x"), "path"),
        (lambda c: c.files.read("../../etc/passwd"), "path"),
        (lambda c: c.pty(["bash"], rows=0, cols=80), "rows"),
        (lambda c: c.spawn("true", cwd="/"), "cwd"),
    ],
)
def test_bad_input_raises_before_sending(call, argument):
    # An address nothing listens on: a request sent would fail as unavailable.
    with SidecarClient("http://127.0.0.1:9", roots=["/workspace"]) as client:
        with pytest.raises(InvalidArgumentError) as caught:
            call(client)
    assert caught.value.argument == argument
    assert isinstance(caught.value, ValueError)


def test_spawn_handle_pid_stdin_iteration_and_wait(sidecar):
    with sidecar.spawn(["bash", "-c", "read line; echo got $line; echo bye >&2"]) as process:
        assert process.pid > 0
        assert process.pid in [p.pid for p in sidecar.list_processes()] or process.exit_code is not None
        process.send_stdin("hello\n")
        chunks = list(process)
        result = process.wait(timeout=10)
    assert "".join(c.text for c in chunks if c.stream == "stdout") == "got hello\n"
    assert (result.stdout, result.stderr, result.exit_code) == ("got hello\n", "bye\n", 0)


def test_spawn_kill_ends_the_process(sidecar):
    process = sidecar.spawn(["sleep", "30"])
    assert process.exit_code is None
    process.kill("SIGTERM")
    result = process.wait(timeout=10)
    assert result.signal == "SIGTERM"
    process.close()


def test_spawn_callbacks_and_close_stdin(sidecar):
    lines: list[str] = []
    process = sidecar.spawn("cat; echo done", on_stdout=lines.append)
    process.send_stdin(b"abc\n")
    process.close_stdin()
    result = process.wait(timeout=10)
    assert "".join(lines) == result.stdout == "abc\ndone\n"


def test_pty_is_a_terminal_and_resizes(sidecar):
    with sidecar.pty(["bash", "--norc", "-i"], rows=30, cols=100) as terminal:
        terminal.send_stdin("stty size; tty -s && echo IS-TTY; exit\n")
        output = "".join(chunk.text for chunk in terminal)
        result = terminal.wait(timeout=10)
    assert "30 100" in output and "IS-TTY" in output
    assert result.exit_code == 0


def test_dead_sidecar_mid_stream_raises_sidecar_error(tmp_path):
    server = start_sidecar(tmp_path, "doomed", tmp_path / "sidecar.log")
    try:
        with SidecarClient(server.url, token=server.token, roots=None) as client:
            stream = client.execute_stream(["bash", "-c", "echo first; sleep 5"])
            next(stream)  # started
            server.process.kill()
            started = time.monotonic()
            with pytest.raises(SidecarError) as caught:
                for _ in stream:
                    pass
            assert time.monotonic() - started < 10
            assert caught.value.code == "unavailable"
            with pytest.raises(SidecarError):
                client.run("true")
    finally:
        stop_sidecar(server)
