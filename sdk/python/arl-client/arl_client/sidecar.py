"""The direct path: Connect calls straight to a sandbox's sidecar.

No Task object, no apiserver round trip: one HTTP request per call to
``http://<pod IP>:8080`` (or a local port-forward, see portforward.py) with
the sandbox's token. ``SandboxSession.sidecar`` builds one for its sandbox.

    result = client.run("make -j2", on_stdout=print, timeout=600)
    process = client.spawn(["python", "-m", "http.server"])
    terminal = client.pty(["bash"], rows=24, cols=80)

The logic (checks, requests, events, step semantics) lives in _direct.py and
is shared with AsyncSidecarClient; this module only does the blocking I/O.
The stubs are generated from proto/arl/sidecar/v1/sidecar.proto into
arl_client/_proto (see scripts/generate.sh).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from connectrpc.compat import google_protobuf_binary_codec
from pyqwest import HTTPVersion, SyncClient, SyncHTTPTransport

from . import _direct, _threads
from ._direct import NO_EXIT_CODE, Command, OutputChunk, StreamEvent
from ._proto.arl.sidecar.v1 import sidecar_pb2 as pb
from ._proto.arl.sidecar.v1.sidecar_connect import SidecarServiceClientSync
from .durations import Duration
from .exceptions import SidecarError
from .files import Files
from .results import ExecResult, ProcessEnded, ProcessInfo, ProcessStarted, ResetResult, SignalResult
from .steps import StepInput

__all__ = [
    "NO_EXIT_CODE",
    "ExecResult",
    "OutputChunk",
    "Process",
    "ProcessEnded",
    "ProcessInfo",
    "ProcessStarted",
    "ResetResult",
    "SidecarClient",
    "SignalResult",
    "StreamEvent",
]

Response = TypeVar("Response")
OutputCallback = Callable[[str], object]


class SidecarClient:
    """A Connect client for one sandbox sidecar.

    Args:
        base_url: ``http://<pod IP>:8080`` (or a port-forward's local address).
        token: the sandbox's sidecar token (None when the pool has
            sidecarAuth: None).
        connect_timeout: seconds to establish a connection.
        roots: the directories paths must stay inside (checked before
            sending; relative paths start at the first). None: any absolute path.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        connect_timeout: float = 5.0,
        roots: Sequence[str] | None = _direct.DEFAULT_ROOTS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.roots = None if roots is None else tuple(roots)
        self._headers = {"authorization": f"Bearer {token}"} if token else {}
        self._connect_timeout = connect_timeout
        self._transport = _transport(connect_timeout, None)
        self._client = _stub(self.base_url, self._transport)
        self._lock = threading.Lock()
        self._duplex: tuple[SyncHTTPTransport, SidecarServiceClientSync] | None = None
        self.files = Files(self)

    def _use_token(self, token: str | None) -> None:
        """Sends ``token`` with the calls from now on (None: no token)."""
        self._headers = {"authorization": f"Bearer {token}"} if token else {}

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
        """Closes the connections."""
        self._client.close()
        self._transport.close()
        with self._lock:
            duplex, self._duplex = self._duplex, None
        if duplex is not None:
            duplex[1].close()
            duplex[0].close()

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
        spec = _direct.launch(command, cwd=working_dir, env=env, timeout=timeout, stdin=stdin, roots=None)
        response = self._call("execute", self._client.execute, spec.execute(background), spec.deadline_ms)
        return ExecResult.from_proto(response)

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
        the process writes them, then ProcessEnded. A broken stream (the
        sidecar died) raises SidecarError."""
        spec = _direct.launch(command, cwd=working_dir, env=env, timeout=timeout, stdin=stdin, roots=None)
        return self._stream("execute_stream", spec)

    def run(
        self,
        command: Command,
        *,
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
        timeout: Duration | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stdin: bytes | str | None = None,
    ) -> ExecResult:
        """Runs ``command`` to its end, calling ``on_stdout`` / ``on_stderr``
        with each piece of output as it comes, and returns the ExecResult.

        ``command`` is an argv list, or a string run by ``/bin/sh -c``.
        ``timeout`` (> 0) kills the process after that long
        (``result.timed_out``); ``cwd`` must be inside the workspace.
        """
        spec = _direct.launch(command, cwd=cwd, env=env, timeout=timeout, stdin=stdin, roots=self.roots, shell=True)
        collector = _direct.Collector()
        for event in self._stream("run", spec):
            collector.add(event)
            if isinstance(event, OutputChunk):
                callback = on_stderr if event.stream == "stderr" else on_stdout
                if callback is not None:
                    callback(event.text)
        return collector.result("run")

    def spawn(
        self,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
    ) -> Process:
        """Starts ``command`` and returns a Process handle at once (its pid
        known): ``.wait()``, ``.kill()``, ``.send_stdin()``, iteration over
        its output. The process runs over the Interact stream, so it ends when
        the handle is closed."""
        spec = _direct.launch(command, cwd=cwd, env=env, timeout=None, roots=self.roots, shell=True)
        return Process(self, spec, None, on_stdout, on_stderr)

    def pty(
        self,
        command: Command = ("/bin/bash",),
        rows: int = 24,
        cols: int = 80,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_output: OutputCallback | None = None,
    ) -> Process:
        """Starts ``command`` on a pseudo-terminal of ``rows`` x ``cols``:
        the Process handle writes keystrokes with ``send_stdin``, resizes with
        ``resize`` and yields the terminal's output (stdout; stderr is merged)."""
        size = _direct.window(rows, cols)
        spec = _direct.launch(command, cwd=cwd, env=env, timeout=None, roots=self.roots, shell=True)
        return Process(self, spec, size, on_output, None)

    def signal(self, pid: int, signal: str = "SIGTERM") -> SignalResult:
        """Sends a signal (SIGTERM, SIGINT, SIGKILL, ...) to a process of the sandbox."""
        response = self._call("signal", self._client.signal, pb.SignalRequest(pid=pid, signal=signal))
        return SignalResult.from_proto(response)

    def reset(self, preserve_files: bool = True) -> ResetResult:
        """Ends every user process; also empties the workspace unless preserve_files."""
        response = self._call("reset", self._client.reset, pb.ResetRequest(preserve_files=preserve_files))
        return ResetResult.from_proto(response)

    def list_processes(self, include_done: bool = False) -> list[ProcessInfo]:
        """The processes the sidecar started (the finished ones too with include_done)."""
        response = self._call(
            "list_processes", self._client.list_processes, pb.ListProcessesRequest(include_done=include_done)
        )
        return [ProcessInfo.from_proto(process) for process in response.processes]

    def get_process(self, pid: int) -> tuple[ProcessInfo, str, str]:
        """Returns a process's info and its kept stdout and stderr."""
        response = self._call("get_process", self._client.get_process, pb.GetProcessRequest(pid=pid))
        return ProcessInfo.from_proto(response.process), response.stdout, response.stderr

    def health(self) -> str:
        """The sidecar's health status ("ok")."""
        response = self._call("health", self._client.health, pb.HealthRequest())
        return str(response.status)

    # -- files -----------------------------------------------------------

    def write_files(self, files: Mapping[str, bytes | str], mode: int = 0) -> dict[str, int]:
        """Writes every path (absolute, inside the workspace) or none: a bad
        path or mode leaves all files unchanged;
        returns the size written per path."""
        request = pb.WriteFilesRequest(
            files=[pb.File(path=path, content=_direct.as_bytes(content), mode=mode) for path, content in files.items()]
        )
        response = self._call("write_files", self._client.write_files, request)
        return {result.path: result.size for result in response.files}

    def write_file(self, path: str, content: bytes | str, mode: int = 0) -> int:
        """Writes one file; returns its size."""
        return self.write_files({path: content}, mode=mode)[path]

    def read_file(self, path: str, max_bytes: int = 0) -> bytes:
        """A file's content (up to ``max_bytes`` when > 0)."""
        response = self._call("read_file", self._client.read_file, pb.ReadFileRequest(path=path, max_bytes=max_bytes))
        return bytes(response.content)

    # -- the manual's steps, without a Task --------------------------------

    def run_steps(self, steps: Sequence[StepInput], timeout: Duration = "30s") -> dict[str, Any]:
        """Runs Task steps directly and returns ``{"status": {...}}`` shaped
        like a finished Task's (see _direct.run_steps_plan for the semantics)."""
        plan = _direct.run_steps_plan(steps, timeout, time.monotonic)
        outcome: _direct.StepOutcome = None
        try:
            action = next(plan)
            while True:
                try:
                    if isinstance(action, _direct.WriteAction):
                        self.write_file(action.path, action.content)
                        outcome = None
                    else:
                        outcome = self.execute(
                            action.command, working_dir=action.working_dir, env=action.env,
                            timeout=action.timeout_seconds,
                        )
                except SidecarError as error:
                    outcome = error
                action = plan.send(outcome)
        except StopIteration as finished:
            result: dict[str, Any] = finished.value
            return result

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
        except Exception as error:  # ConnectError or a broken connection
            raise _direct.sidecar_error(operation, error) from error

    def _stream(self, operation: str, spec: _direct.Launch) -> Iterator[StreamEvent]:
        try:
            for message in self._client.execute_stream(
                spec.stream(), headers=self._headers, timeout_ms=spec.deadline_ms
            ):
                event = _direct.stream_event(message)
                if event is not None:
                    yield event
        except Exception as error:  # ConnectError or a broken connection
            raise _direct.sidecar_error(operation, error) from error

    def _interact(self, requests: Iterator[pb.InteractRequest]) -> Iterator[Any]:
        """Opens an Interact stream (bidirectional: needs HTTP/2)."""
        with self._lock:
            if self._duplex is None:
                transport = _transport(self._connect_timeout, HTTPVersion.HTTP2)
                self._duplex = (transport, _stub(self.base_url, transport))
            stub = self._duplex[1]
        return iter(stub.interact(requests, headers=self._headers))


class Process:
    """A process started by ``spawn`` or ``pty``: a handle on its Interact stream.

    ``pid`` is known when the handle is returned. Iterating yields its
    OutputChunks as they come (each chunk once, across iterators); the
    callbacks, if given, see every chunk too. Use it as a context manager, or
    call ``close()``, to end the stream (and with it the process).
    """

    def __init__(
        self,
        client: SidecarClient,
        spec: _direct.Launch,
        size: pb.WindowSize | None,
        on_stdout: OutputCallback | None,
        on_stderr: OutputCallback | None,
    ) -> None:
        self._client = client
        self._requests: queue.SimpleQueue[pb.InteractRequest | None] = queue.SimpleQueue()
        self._requests.put(spec.interact(size))
        self._events: queue.SimpleQueue[OutputChunk | None] = queue.SimpleQueue()
        self._callbacks = {"stdout": on_stdout, "stderr": on_stderr}
        self._collector = _direct.Collector()
        self._started = threading.Event()
        self._finished = threading.Event()
        self._error: SidecarError | None = None
        self._stdin_closed = False
        self._reader = _threads.start("arl-process", self._read, stop=self.close)
        self._started.wait()
        if self._error is not None and not self._collector.pid:
            raise self._error

    @property
    def pid(self) -> int:
        """The process id inside the sandbox."""
        return self._collector.pid

    @property
    def exit_code(self) -> int | None:
        """The exit code once the process ended, else None."""
        end = self._collector.end
        return None if end is None else end.exit_code

    def wait(self, timeout: float | None = None) -> ExecResult:
        """Waits for the end and returns the ExecResult (all output included).

        Raises TimeoutError after ``timeout`` seconds, SidecarError if the
        stream broke first.
        """
        if not self._finished.wait(timeout):
            raise TimeoutError(f"process {self.pid} still running after {timeout:g}s")
        if self._collector.end is None and self._error is not None:
            raise self._error
        return self._collector.result("wait")

    def kill(self, signal: str = "SIGKILL") -> SignalResult:
        """Sends ``signal`` to the process."""
        return self._client.signal(self.pid, signal)

    def send_stdin(self, data: bytes | str) -> None:
        """Writes ``data`` to the process's stdin (the terminal, for a pty)."""
        if self._stdin_closed:
            raise SidecarError("send_stdin", "failed_precondition", "stdin is closed")
        self._requests.put(pb.InteractRequest(stdin=_direct.as_bytes(data)))

    def close_stdin(self) -> None:
        """Closes the process's stdin (EOF)."""
        if not self._stdin_closed:
            self._stdin_closed = True
            self._requests.put(pb.InteractRequest(eof=True))

    def resize(self, rows: int, cols: int) -> None:
        """Resizes the pseudo-terminal."""
        self._requests.put(pb.InteractRequest(resize=_direct.window(rows, cols)))

    def close(self) -> None:
        """Ends the stream; the sidecar then ends the process."""
        self._requests.put(None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[OutputChunk]:
        while True:
            chunk = self._events.get()
            if chunk is None:
                self._events.put(None)  # let other iterators end too
                if self._collector.end is None and self._error is not None:
                    raise self._error
                return
            yield chunk

    def _outgoing(self) -> Iterator[pb.InteractRequest]:
        while True:
            request = self._requests.get()
            if request is None:
                return
            yield request

    def _read(self) -> None:
        try:
            for message in self._client._interact(self._outgoing()):
                event = _direct.stream_event(message)
                if event is None:
                    continue
                self._collector.add(event)
                if isinstance(event, ProcessStarted):
                    self._started.set()
                elif isinstance(event, OutputChunk):
                    callback = self._callbacks[event.stream]
                    if callback is not None:
                        callback(event.text)
                    self._events.put(event)
                else:
                    break
        except Exception as error:  # ConnectError or a broken connection
            self._error = _direct.sidecar_error("interact", error)
        finally:
            self._requests.put(None)
            self._finished.set()
            self._started.set()
            self._events.put(None)


def _transport(connect_timeout: float, version: HTTPVersion | None) -> SyncHTTPTransport:
    return SyncHTTPTransport(
        connect_timeout=connect_timeout,
        enable_otel=False,
        tcp_keepalive_interval=30.0,
        http_version=version,
        enable_gzip=False,
        enable_brotli=False,
        enable_zstd=False,
    )


def _stub(base_url: str, transport: SyncHTTPTransport) -> SidecarServiceClientSync:
    return SidecarServiceClientSync(
        base_url,
        codec=google_protobuf_binary_codec(),
        send_compression=None,
        accept_compression=(),
        http_client=SyncClient(transport),
    )
