"""The direct path: Connect calls straight to a sandbox's sidecar.

No Task object, no apiserver round trip: one HTTP request per call to
``http://<pod IP>:8080`` with the sandbox's token. ``SandboxSession.sidecar``
builds one for its sandbox; ``run_steps`` runs the manual's steps with the
same result shape (and the same semantics) as a Task.

The stubs are generated from proto/arl/sidecar/v1/sidecar.proto into
arl_client/_proto (see scripts/generate.sh).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from connectrpc.code import Code
from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.errors import ConnectError
from pyqwest import SyncClient, SyncHTTPTransport

from ._proto.arl.sidecar.v1 import sidecar_pb2 as pb
from ._proto.arl.sidecar.v1.sidecar_connect import SidecarServiceClientSync
from .durations import Duration, parse_duration
from .exceptions import SidecarAuthError, SidecarError, TaskTimeoutError
from .steps import StepInput, build_steps

# The exit code of a step that could not run (as the Task controller records it).
NO_EXIT_CODE = -1
_AUTH_CODES = frozenset({Code.UNAUTHENTICATED, Code.PERMISSION_DENIED})
_DEADLINE_SLACK = 10.0  # HTTP deadline beyond the server-side process timeout

Response = TypeVar("Response")


@dataclass(frozen=True)
class ExecResult:
    """The outcome of ``execute``; ``to_dict`` gives the sidecar's REST JSON."""

    stdout: str
    stderr: str
    exit_code: int
    done: bool
    pid: int
    timed_out: bool
    signal: str
    duration_ms: int
    stdout_truncated: bool
    stderr_truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProcessStarted:
    pid: int


@dataclass(frozen=True)
class OutputChunk:
    stream: Literal["stdout", "stderr"]
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")


@dataclass(frozen=True)
class ProcessEnded:
    exit_code: int
    timed_out: bool
    signal: str
    duration_ms: int


StreamEvent = ProcessStarted | OutputChunk | ProcessEnded


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    command: list[str]
    working_dir: str
    background: bool
    done: bool
    exit_code: int
    signal: str
    started_at_ms: int


@dataclass(frozen=True)
class SignalResult:
    success: bool
    message: str


@dataclass(frozen=True)
class ResetResult:
    success: bool
    message: str
    processes_killed: int


class SidecarClient:
    """A Connect client for one sandbox sidecar.

    Args:
        base_url: ``http://<pod IP>:8080``.
        token: the sandbox's sidecar token (None when the pool has
            sidecarAuth: None).
        connect_timeout: seconds to establish a connection.
    """

    def __init__(self, base_url: str, token: str | None = None, connect_timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {token}"} if token else {}
        self._transport = SyncHTTPTransport(
            connect_timeout=connect_timeout,
            enable_otel=False,
            tcp_keepalive_interval=30.0,
        )
        self._client = SidecarServiceClientSync(
            self.base_url,
            codec=google_protobuf_binary_codec(),
            send_compression=None,
            accept_compression=(),
            http_client=SyncClient(self._transport),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()
        self._transport.close()

    # -- processes -------------------------------------------------------

    def execute(
        self,
        command: Sequence[str],
        *,
        working_dir: str = "",
        env: Mapping[str, str] | None = None,
        background: bool = False,
        timeout: Duration | None = None,
        stdin: bytes | str | None = None,
    ) -> ExecResult:
        """Runs ``command`` (an argv list) and returns its output and exit code.

        ``timeout`` kills the process group after that long (the server's
        ceiling applies when unset). With ``background=True`` it returns at
        once with the pid and ``done=False``.
        """
        timeout_seconds = _whole_seconds(timeout)
        request = pb.ExecuteRequest(
            command=_argv(command),
            working_dir=working_dir,
            env=dict(env or {}),
            background=background,
            timeout_seconds=timeout_seconds,
            stdin=_bytes(stdin),
        )
        response = self._call("execute", self._client.execute, request, _http_deadline(timeout_seconds))
        return ExecResult(
            stdout=response.stdout,
            stderr=response.stderr,
            exit_code=response.exit_code,
            done=response.done,
            pid=response.pid,
            timed_out=response.timed_out,
            signal=response.signal,
            duration_ms=response.duration_ms,
            stdout_truncated=response.stdout_truncated,
            stderr_truncated=response.stderr_truncated,
        )

    def execute_stream(
        self,
        command: Sequence[str],
        *,
        working_dir: str = "",
        env: Mapping[str, str] | None = None,
        timeout: Duration | None = None,
        stdin: bytes | str | None = None,
    ) -> Iterator[StreamEvent]:
        """Runs ``command`` and yields ProcessStarted, then OutputChunks as
        the process writes them, then ProcessEnded."""
        timeout_seconds = _whole_seconds(timeout)
        request = pb.ExecuteStreamRequest(
            command=_argv(command),
            working_dir=working_dir,
            env=dict(env or {}),
            timeout_seconds=timeout_seconds,
            stdin=_bytes(stdin),
        )
        try:
            for message in self._client.execute_stream(
                request, headers=self._headers, timeout_ms=_http_deadline(timeout_seconds)
            ):
                event = message.WhichOneof("event")
                if event == "start":
                    yield ProcessStarted(pid=message.start.pid)
                elif event == "output":
                    if message.output.stream == pb.STREAM_STDERR:
                        yield OutputChunk(stream="stderr", data=message.output.data)
                    else:
                        yield OutputChunk(stream="stdout", data=message.output.data)
                elif event == "end":
                    end = message.end
                    yield ProcessEnded(
                        exit_code=end.exit_code,
                        timed_out=end.timed_out,
                        signal=end.signal,
                        duration_ms=end.duration_ms,
                    )
        except ConnectError as error:
            raise _sidecar_error("execute_stream", error) from error

    def signal(self, pid: int, signal: str = "SIGTERM") -> SignalResult:
        """Sends a signal (SIGTERM, SIGINT, SIGKILL, ...) to a process of the sandbox."""
        response = self._call("signal", self._client.signal, pb.SignalRequest(pid=pid, signal=signal))
        return SignalResult(success=response.success, message=response.message)

    def reset(self, preserve_files: bool = True) -> ResetResult:
        """Ends every user process; also empties the workspace unless preserve_files."""
        response = self._call("reset", self._client.reset, pb.ResetRequest(preserve_files=preserve_files))
        return ResetResult(
            success=response.success,
            message=response.message,
            processes_killed=response.processes_killed,
        )

    def list_processes(self, include_done: bool = False) -> list[ProcessInfo]:
        response = self._call(
            "list_processes",
            self._client.list_processes,
            pb.ListProcessesRequest(include_done=include_done),
        )
        return [_process_info(process) for process in response.processes]

    def get_process(self, pid: int) -> tuple[ProcessInfo, str, str]:
        """Returns a process's info and its kept stdout and stderr."""
        response = self._call("get_process", self._client.get_process, pb.GetProcessRequest(pid=pid))
        return _process_info(response.process), response.stdout, response.stderr

    def health(self) -> str:
        response = self._call("health", self._client.health, pb.HealthRequest())
        return response.status

    # -- files -----------------------------------------------------------

    def write_files(self, files: Mapping[str, bytes | str], mode: int = 0) -> dict[str, int]:
        """Writes each path (absolute, inside the workspace) atomically;
        returns the size written per path."""
        request = pb.WriteFilesRequest(
            files=[pb.File(path=path, content=_bytes(content), mode=mode) for path, content in files.items()]
        )
        response = self._call("write_files", self._client.write_files, request)
        return {result.path: result.size for result in response.files}

    def write_file(self, path: str, content: bytes | str, mode: int = 0) -> int:
        return self.write_files({path: content}, mode=mode)[path]

    def read_file(self, path: str, max_bytes: int = 0) -> bytes:
        response = self._call(
            "read_file", self._client.read_file, pb.ReadFileRequest(path=path, max_bytes=max_bytes)
        )
        return response.content

    # -- the manual's steps, without a Task --------------------------------

    def run_steps(self, steps: Sequence[StepInput], timeout: Duration = "30s") -> dict[str, Any]:
        """Runs Task steps directly and returns ``{"status": {...}}`` shaped
        like a finished Task's: state, exitCode, stdout, stderr, steps.

        Same semantics as the Task controller: steps run in order; the first
        failing one stops the run and the later ones are Skipped; stdout and
        stderr are the Command steps' output concatenated; a step the sidecar
        cannot run (a refused path) fails with exit code -1 and an
        ``arl: ...`` line in stderr. Raises TaskTimeoutError when the steps
        together exceed ``timeout``.
        """
        built = build_steps(steps)
        budget = parse_duration(timeout)
        deadline = time.monotonic() + budget
        stdout: list[str] = []
        stderr: list[str] = []
        results: list[dict[str, Any]] = []
        exit_code = 0
        for step in built:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TaskTimeoutError(step["name"], f"steps exceeded {budget:g}s")
            try:
                exit_code = self._run_step(step, remaining, stdout, stderr)
            except SidecarError as error:
                exit_code = NO_EXIT_CODE
                stderr.append(f"arl: step {step['name']!r} could not run: {error.code}: {error.message}\n")
            state = "Succeeded" if exit_code == 0 else "Failed"
            results.append({"name": step["name"], "type": step["type"], "state": state, "exitCode": exit_code})
            if exit_code != 0:
                break
        results += [
            {"name": step["name"], "type": step["type"], "state": "Skipped"}
            for step in built[len(results):]
        ]
        return {
            "status": {
                "state": "Succeeded" if exit_code == 0 else "Failed",
                "exitCode": exit_code,
                "stdout": "".join(stdout),
                "stderr": "".join(stderr),
                "steps": results,
            }
        }

    def _run_step(self, step: dict[str, Any], remaining: float, stdout: list[str], stderr: list[str]) -> int:
        if step["type"] == "FilePatch":
            self.write_file(step["path"], step.get("content", ""))
            return 0
        result = self.execute(
            step["command"],
            working_dir=step.get("workDir", ""),  # "": the sidecar's workspace root
            env=step.get("env"),
            timeout=max(1, math.ceil(remaining)),
        )
        stdout.append(result.stdout)
        stderr.append(result.stderr)
        if result.timed_out:
            raise TaskTimeoutError(step["name"], "killed: the steps' timeout passed")
        return result.exit_code

    # -- internals -------------------------------------------------------

    def _call(
        self,
        operation: str,
        method: Callable[..., Response],
        request: Any,
        timeout_ms: int | None = None,
    ) -> Response:
        try:
            return method(request, headers=self._headers, timeout_ms=timeout_ms)
        except ConnectError as error:
            raise _sidecar_error(operation, error) from error


def _sidecar_error(operation: str, error: ConnectError) -> SidecarError:
    if error.code in _AUTH_CODES:
        return SidecarAuthError(operation, error.code.value, error.message)
    return SidecarError(operation, error.code.value, error.message)


def _argv(command: Sequence[str]) -> list[str]:
    if isinstance(command, (str, bytes)) or not command or not all(isinstance(a, str) for a in command):
        raise ValueError(
            f"command must be a non-empty argv list of strings (use ['bash', '-c', ...] "
            f"for a shell), got {command!r}"
        )
    return list(command)


def _bytes(content: bytes | str | None) -> bytes:
    if content is None:
        return b""
    return content.encode() if isinstance(content, str) else bytes(content)


def _whole_seconds(timeout: Duration | None) -> int:
    if timeout is None:
        return 0
    return max(1, math.ceil(parse_duration(timeout)))


def _http_deadline(timeout_seconds: int) -> int | None:
    if timeout_seconds <= 0:
        return None
    return int((timeout_seconds + _DEADLINE_SLACK) * 1000)


def _process_info(process: pb.ProcessInfo) -> ProcessInfo:
    return ProcessInfo(
        pid=process.pid,
        command=list(process.command),
        working_dir=process.working_dir,
        background=process.background,
        done=process.done,
        exit_code=process.exit_code,
        signal=process.signal,
        started_at_ms=process.started_at_ms,
    )
