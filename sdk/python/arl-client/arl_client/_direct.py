"""The direct path's logic, shared by SidecarClient and AsyncSidecarClient.

Everything here is pure: argument checks (done before anything is sent),
request builders, the conversion of stream messages into typed events, the
mapping of transport failures to SidecarError, and the Task-step runner as a
generator that yields actions and receives their results, so the sync and
the async clients drive the very same step semantics.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from ._proto.arl.sidecar.v1 import sidecar_pb2 as pb
from .durations import Duration, parse_duration
from .exceptions import InvalidArgumentError, SidecarAuthError, SidecarError, TaskTimeoutError
from .results import ExecResult, ProcessEnded, ProcessStarted
from .steps import StepInput, build_steps

# The exit code of a step that could not run (as the Task controller records it).
NO_EXIT_CODE = -1
DEFAULT_ROOTS = ("/workspace",)
DEADLINE_SLACK = 10.0  # HTTP deadline beyond the server-side process timeout
_AUTH_CODES = frozenset({Code.UNAUTHENTICATED, Code.PERMISSION_DENIED})

Command = str | Sequence[str]


@dataclass(frozen=True)
class OutputChunk:
    """Stream event: output of the process (``stream`` is the proto's Stream enum by name)."""

    stream: Literal["stdout", "stderr"]
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")


StreamEvent = ProcessStarted | OutputChunk | ProcessEnded


# -- argument checks ----------------------------------------------------------


def argv(command: Command, *, shell: bool = False) -> list[str]:
    """An argv list; with ``shell=True`` a string runs under ``/bin/sh -c``."""
    if shell and isinstance(command, str):
        if not command.strip():
            raise InvalidArgumentError("command", "invalid command: the command string is empty")
        return ["/bin/sh", "-c", command]
    if isinstance(command, (str, bytes)) or not command or not all(isinstance(a, str) for a in command):
        raise InvalidArgumentError(
            "command",
            "invalid command: want a non-empty argv list of strings (use ['bash', '-c', ...] for a shell), "
            f"got {command!r}",
        )
    if not command[0]:
        raise InvalidArgumentError("command", "invalid command: command[0] (the program) must not be empty")
    return list(command)


def whole_seconds(timeout: Duration | None, *, name: str = "timeout") -> int:
    """Seconds for the server's timeout_seconds: None is 0 (the server's
    ceiling); anything else must be > 0."""
    if timeout is None:
        return 0
    try:
        seconds = parse_duration(timeout)
    except ValueError as error:
        raise InvalidArgumentError(name, f"invalid {name}: {error}") from None
    if seconds <= 0:
        raise InvalidArgumentError(name, f"invalid {name}: must be > 0, got {timeout!r}")
    return max(1, math.ceil(seconds))


def http_deadline_ms(timeout_seconds: int) -> int | None:
    if timeout_seconds <= 0:
        return None
    return int((timeout_seconds + DEADLINE_SLACK) * 1000)


def confined(path: str, roots: Sequence[str] | None, *, name: str = "path") -> str:
    """The absolute, cleaned path; relative paths are taken from the first
    root. Raises InvalidArgumentError for a path outside every root (checked
    lexically here; the sidecar checks again through symlinks)."""
    if not isinstance(path, str) or not path:
        raise InvalidArgumentError(name, f"invalid {name}: want a non-empty path string, got {path!r}")
    if "\x00" in path:
        raise InvalidArgumentError(name, f"invalid {name}: the path contains a NUL byte")
    if roots is None:
        if not path.startswith("/"):
            raise InvalidArgumentError(name, f"invalid {name}: {path!r} must be absolute")
        return posixpath.normpath(path)
    absolute = path if path.startswith("/") else posixpath.join(roots[0], path)
    clean = posixpath.normpath(absolute)
    for root in roots:
        root = posixpath.normpath(root)
        if root == "/" or clean == root or clean.startswith(root + "/"):
            return clean
    raise InvalidArgumentError(name, f"invalid {name}: {path!r} is outside the workspace ({', '.join(roots)})")


def env_map(env: Mapping[str, str] | None) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise InvalidArgumentError("env", f"invalid env: want a mapping of strings to strings, got {env!r}")
    return dict(env)


def as_bytes(content: bytes | str | None) -> bytes:
    if content is None:
        return b""
    return content.encode() if isinstance(content, str) else bytes(content)


def window(rows: int, cols: int) -> pb.WindowSize:
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
            raise InvalidArgumentError(name, f"invalid {name}: want an integer from 1 to 65535, got {value!r}")
    return pb.WindowSize(rows=rows, cols=cols)


# -- requests ---------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    """A checked command launch, ready to become any of the process requests."""

    command: list[str]
    working_dir: str
    env: dict[str, str]
    timeout_seconds: int
    stdin: bytes

    def execute(self, background: bool = False) -> pb.ExecuteRequest:
        return pb.ExecuteRequest(
            command=self.command, working_dir=self.working_dir, env=self.env,
            background=background, timeout_seconds=self.timeout_seconds, stdin=self.stdin,
        )

    def stream(self) -> pb.ExecuteStreamRequest:
        return pb.ExecuteStreamRequest(
            command=self.command, working_dir=self.working_dir, env=self.env,
            timeout_seconds=self.timeout_seconds, stdin=self.stdin,
        )

    def interact(self, size: pb.WindowSize | None) -> pb.InteractRequest:
        start = pb.InteractStart(command=self.command, working_dir=self.working_dir, env=self.env,
                                 pty=size is not None, size=size)
        return pb.InteractRequest(start=start)

    @property
    def deadline_ms(self) -> int | None:
        return http_deadline_ms(self.timeout_seconds)


def launch(
    command: Command,
    *,
    cwd: str | None,
    env: Mapping[str, str] | None,
    timeout: Duration | None,
    stdin: bytes | str | None = None,
    roots: Sequence[str] | None,
    shell: bool = False,
) -> Launch:
    return Launch(
        command=argv(command, shell=shell),
        working_dir="" if not cwd else confined(cwd, roots, name="cwd"),
        env=env_map(env),
        timeout_seconds=whole_seconds(timeout),
        stdin=as_bytes(stdin),
    )


# -- responses --------------------------------------------------------------


def stream_event(message: Any) -> StreamEvent | None:
    """A typed event from an ExecuteStreamResponse or InteractResponse."""
    event = message.WhichOneof("event")
    if event == "start":
        return ProcessStarted.from_proto(message.start)
    if event == "output":
        stream: Literal["stdout", "stderr"] = "stderr" if message.output.stream == pb.STREAM_STDERR else "stdout"
        return OutputChunk(stream=stream, data=message.output.data)
    if event == "end":
        return ProcessEnded.from_proto(message.end)
    return None


class Collector:
    """Gathers a streamed run into an ExecResult."""

    def __init__(self) -> None:
        self.pid = 0
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self.end: ProcessEnded | None = None

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, ProcessStarted):
            self.pid = event.pid
        elif isinstance(event, OutputChunk):
            (self.stderr if event.stream == "stderr" else self.stdout).append(event.data)
        else:
            self.end = event

    def result(self, operation: str) -> ExecResult:
        if self.end is None:
            raise SidecarError(operation, Code.UNAVAILABLE.value,
                               "the stream ended before the process did (sidecar gone?)")
        return ExecResult(
            stdout=b"".join(self.stdout).decode(errors="replace"),
            stderr=b"".join(self.stderr).decode(errors="replace"),
            exit_code=self.end.exit_code,
            done=True,
            pid=self.pid,
            timed_out=self.end.timed_out,
            signal=self.end.signal,
            duration_ms=self.end.duration_ms,
        )


def sidecar_error(operation: str, error: BaseException) -> SidecarError:
    """A SidecarError for a failed call: the Connect code when the sidecar
    answered, ``unavailable`` when the connection broke (a dead sidecar)."""
    if isinstance(error, SidecarError):
        return error
    if isinstance(error, ConnectError):
        if error.code in _AUTH_CODES:
            return SidecarAuthError(operation, error.code.value, error.message)
        return SidecarError(operation, error.code.value, error.message)
    return SidecarError(operation, Code.UNAVAILABLE.value, f"{type(error).__name__}: {error}")


# -- the manual's steps without a Task -----------------------------------------


@dataclass(frozen=True)
class WriteAction:
    path: str
    content: str


@dataclass(frozen=True)
class ExecAction:
    command: list[str]
    working_dir: str
    env: dict[str, str]
    timeout_seconds: int


StepAction = WriteAction | ExecAction
StepOutcome = ExecResult | SidecarError | None


def run_steps_plan(
    steps: Sequence[StepInput], timeout: Duration, clock: Any
) -> Generator[StepAction, StepOutcome, dict[str, Any]]:
    """Drives Task steps: yields one action per step and receives its result
    (an ExecResult, None for a write, or the SidecarError it raised); returns
    ``{"status": {...}}`` shaped like a finished Task's.

    Same semantics as the Task controller: steps run in order; the first
    failing one stops the run and the later ones are Skipped; stdout and
    stderr are the Command steps' output concatenated; a step the sidecar
    cannot run (a refused path) fails with exit code -1 and an ``arl: ...``
    line in stderr. Raises TaskTimeoutError when the steps together exceed
    ``timeout``.
    """
    built = build_steps(steps)
    budget = parse_duration(timeout)
    if budget <= 0:
        raise InvalidArgumentError("timeout", f"invalid timeout: must be > 0, got {timeout!r}")
    deadline = clock() + budget
    stdout: list[str] = []
    stderr: list[str] = []
    results: list[dict[str, Any]] = []
    exit_code = 0
    for step in built:
        remaining = deadline - clock()
        if remaining <= 0:
            raise TaskTimeoutError(step["name"], f"steps exceeded {budget:g}s")
        action: StepAction
        if step["type"] == "FilePatch":
            action = WriteAction(path=step["path"], content=step.get("content", ""))
        else:
            action = ExecAction(
                command=list(step["command"]),
                working_dir=step.get("workDir", ""),  # "": the sidecar's workspace root
                env=dict(step.get("env") or {}),
                timeout_seconds=max(1, math.ceil(remaining)),
            )
        outcome = yield action
        if isinstance(outcome, SidecarError):
            exit_code = NO_EXIT_CODE
            stderr.append(f"arl: step {step['name']!r} could not run: {outcome.code}: {outcome.message}\n")
        elif isinstance(outcome, ExecResult):
            stdout.append(outcome.stdout)
            stderr.append(outcome.stderr)
            if outcome.timed_out:
                raise TaskTimeoutError(step["name"], "killed: the steps' timeout passed")
            exit_code = outcome.exit_code
        else:
            exit_code = 0
        state = "Succeeded" if exit_code == 0 else "Failed"
        results.append({"name": step["name"], "type": step["type"], "state": state, "exitCode": exit_code})
        if exit_code != 0:
            break
    results += [
        {"name": step["name"], "type": step["type"], "state": "Skipped"} for step in built[len(results):]
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
