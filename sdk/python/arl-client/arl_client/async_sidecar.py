"""AsyncSidecarClient: the direct path on asyncio, end to end.

The generated async Connect stubs over pyqwest's async transport: no worker
thread per call. Same methods, same arguments and the same logic as
SidecarClient (both drive _direct.py); every call is awaited.

    async with AsyncSidecarClient(url, token=token) as client:
        result = await client.run("pytest -q", on_stdout=print)
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from connectrpc.compat import google_protobuf_binary_codec
from pyqwest import Client, HTTPTransport, HTTPVersion

from . import _direct
from ._direct import Command, OutputChunk, StreamEvent
from ._proto.arl.sidecar.v1 import sidecar_pb2 as pb
from ._proto.arl.sidecar.v1.sidecar_connect import SidecarServiceClient
from .async_files import AsyncFiles
from .durations import Duration
from .exceptions import SidecarError
from .results import ExecResult, ProcessEnded, ProcessInfo, ProcessStarted, ResetResult, SignalResult
from .steps import StepInput

__all__ = ["AsyncProcess", "AsyncSidecarClient"]

Response = TypeVar("Response")
OutputCallback = Callable[[str], object] | Callable[[str], Awaitable[object]]


class AsyncSidecarClient:
    """The asyncio twin of SidecarClient (same arguments)."""

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
        self._duplex: tuple[HTTPTransport, SidecarServiceClient] | None = None
        self.files = AsyncFiles(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connections."""
        await self._client.close()
        await self._transport.aclose()
        duplex, self._duplex = self._duplex, None
        if duplex is not None:
            await duplex[1].close()
            await duplex[0].aclose()

    # -- processes -------------------------------------------------------

    async def execute(
        self,
        command: Sequence[str],
        *,
        working_dir: str = "",
        env: Mapping[str, str] | None = None,
        background: bool = False,
        timeout: Duration | None = None,
        stdin: bytes | str | None = None,
    ) -> ExecResult:
        """See SidecarClient.execute."""
        spec = _direct.launch(command, cwd=working_dir, env=env, timeout=timeout, stdin=stdin, roots=None)
        response = await self._call("execute", self._client.execute, spec.execute(background), spec.deadline_ms)
        return ExecResult.from_proto(response)

    def execute_stream(
        self,
        command: Sequence[str],
        *,
        working_dir: str = "",
        env: Mapping[str, str] | None = None,
        timeout: Duration | None = None,
        stdin: bytes | str | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """See SidecarClient.execute_stream (``async for``)."""
        spec = _direct.launch(command, cwd=working_dir, env=env, timeout=timeout, stdin=stdin, roots=None)
        return self._stream("execute_stream", spec)

    async def run(
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
        """See SidecarClient.run; the callbacks may be coroutine functions."""
        spec = _direct.launch(command, cwd=cwd, env=env, timeout=timeout, stdin=stdin, roots=self.roots, shell=True)
        collector = _direct.Collector()
        async for event in self._stream("run", spec):
            collector.add(event)
            if isinstance(event, OutputChunk):
                await _call_back(on_stderr if event.stream == "stderr" else on_stdout, event.text)
        return collector.result("run")

    async def spawn(
        self,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
    ) -> AsyncProcess:
        """See SidecarClient.spawn."""
        spec = _direct.launch(command, cwd=cwd, env=env, timeout=None, roots=self.roots, shell=True)
        return await AsyncProcess.start(self, spec, None, on_stdout, on_stderr)

    async def pty(
        self,
        command: Command = ("/bin/bash",),
        rows: int = 24,
        cols: int = 80,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_output: OutputCallback | None = None,
    ) -> AsyncProcess:
        """See SidecarClient.pty."""
        size = _direct.window(rows, cols)
        spec = _direct.launch(command, cwd=cwd, env=env, timeout=None, roots=self.roots, shell=True)
        return await AsyncProcess.start(self, spec, size, on_output, None)

    async def signal(self, pid: int, signal: str = "SIGTERM") -> SignalResult:
        """See SidecarClient.signal."""
        response = await self._call("signal", self._client.signal, pb.SignalRequest(pid=pid, signal=signal))
        return SignalResult.from_proto(response)

    async def reset(self, preserve_files: bool = True) -> ResetResult:
        """See SidecarClient.reset."""
        response = await self._call("reset", self._client.reset, pb.ResetRequest(preserve_files=preserve_files))
        return ResetResult.from_proto(response)

    async def list_processes(self, include_done: bool = False) -> list[ProcessInfo]:
        """See SidecarClient.list_processes."""
        response = await self._call(
            "list_processes", self._client.list_processes, pb.ListProcessesRequest(include_done=include_done)
        )
        return [ProcessInfo.from_proto(process) for process in response.processes]

    async def get_process(self, pid: int) -> tuple[ProcessInfo, str, str]:
        """See SidecarClient.get_process."""
        response = await self._call("get_process", self._client.get_process, pb.GetProcessRequest(pid=pid))
        return ProcessInfo.from_proto(response.process), response.stdout, response.stderr

    async def health(self) -> str:
        """See SidecarClient.health."""
        response = await self._call("health", self._client.health, pb.HealthRequest())
        return str(response.status)

    # -- files -----------------------------------------------------------

    async def write_files(self, files: Mapping[str, bytes | str], mode: int = 0) -> dict[str, int]:
        """See SidecarClient.write_files."""
        request = pb.WriteFilesRequest(
            files=[pb.File(path=path, content=_direct.as_bytes(content), mode=mode) for path, content in files.items()]
        )
        response = await self._call("write_files", self._client.write_files, request)
        return {result.path: result.size for result in response.files}

    async def write_file(self, path: str, content: bytes | str, mode: int = 0) -> int:
        """See SidecarClient.write_file."""
        return (await self.write_files({path: content}, mode=mode))[path]

    async def read_file(self, path: str, max_bytes: int = 0) -> bytes:
        """See SidecarClient.read_file."""
        response = await self._call(
            "read_file", self._client.read_file, pb.ReadFileRequest(path=path, max_bytes=max_bytes)
        )
        return bytes(response.content)

    async def run_steps(self, steps: Sequence[StepInput], timeout: Duration = "30s") -> dict[str, Any]:
        """See SidecarClient.run_steps (the same step plan drives both)."""
        plan = _direct.run_steps_plan(steps, timeout, time.monotonic)
        outcome: _direct.StepOutcome = None
        try:
            action = next(plan)
            while True:
                try:
                    if isinstance(action, _direct.WriteAction):
                        await self.write_file(action.path, action.content)
                        outcome = None
                    else:
                        outcome = await self.execute(
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

    async def _call(
        self,
        operation: str,
        method: Callable[..., Awaitable[Response]],
        request: Any,
        timeout_ms: int | None = None,
    ) -> Response:
        try:
            return await method(request, headers=self._headers, timeout_ms=timeout_ms)
        except Exception as error:  # ConnectError or a broken connection
            raise _direct.sidecar_error(operation, error) from error

    async def _stream(self, operation: str, spec: _direct.Launch) -> AsyncIterator[StreamEvent]:
        try:
            async for message in self._client.execute_stream(
                spec.stream(), headers=self._headers, timeout_ms=spec.deadline_ms
            ):
                event = _direct.stream_event(message)
                if event is not None:
                    yield event
        except Exception as error:  # ConnectError or a broken connection
            raise _direct.sidecar_error(operation, error) from error

    def _interact(self, requests: AsyncIterator[pb.InteractRequest]) -> AsyncIterator[Any]:
        if self._duplex is None:
            transport = _transport(self._connect_timeout, HTTPVersion.HTTP2)
            self._duplex = (transport, _stub(self.base_url, transport))
        return self._duplex[1].interact(requests, headers=self._headers)


class AsyncProcess:
    """The asyncio twin of Process: ``await process.wait()``, ``async for chunk in process``."""

    def __init__(self, client: AsyncSidecarClient, callbacks: dict[str, OutputCallback | None]) -> None:
        self._client = client
        self._requests: asyncio.Queue[pb.InteractRequest | None] = asyncio.Queue()
        self._events: asyncio.Queue[OutputChunk | None] = asyncio.Queue()
        self._callbacks = callbacks
        self._collector = _direct.Collector()
        self._started = asyncio.Event()
        self._finished = asyncio.Event()
        self._error: SidecarError | None = None
        self._stdin_closed = False
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        client: AsyncSidecarClient,
        spec: _direct.Launch,
        size: pb.WindowSize | None,
        on_stdout: OutputCallback | None,
        on_stderr: OutputCallback | None,
    ) -> AsyncProcess:
        process = cls(client, {"stdout": on_stdout, "stderr": on_stderr})
        process._requests.put_nowait(spec.interact(size))
        process._reader = asyncio.create_task(process._read(), name="arl-process")
        await process._started.wait()
        if process._error is not None and not process._collector.pid:
            raise process._error
        return process

    @property
    def pid(self) -> int:
        """See Process.pid."""
        return self._collector.pid

    @property
    def exit_code(self) -> int | None:
        """See Process.exit_code."""
        end = self._collector.end
        return None if end is None else end.exit_code

    async def wait(self, timeout: float | None = None) -> ExecResult:
        """See Process.wait."""
        try:
            await asyncio.wait_for(self._finished.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"process {self.pid} still running after {timeout:g}s") from None
        if self._collector.end is None and self._error is not None:
            raise self._error
        return self._collector.result("wait")

    async def kill(self, signal: str = "SIGKILL") -> SignalResult:
        """See Process.kill."""
        return await self._client.signal(self.pid, signal)

    async def send_stdin(self, data: bytes | str) -> None:
        """See Process.send_stdin."""
        if self._stdin_closed:
            raise SidecarError("send_stdin", "failed_precondition", "stdin is closed")
        await self._requests.put(pb.InteractRequest(stdin=_direct.as_bytes(data)))

    async def close_stdin(self) -> None:
        """See Process.close_stdin."""
        if not self._stdin_closed:
            self._stdin_closed = True
            await self._requests.put(pb.InteractRequest(eof=True))

    async def resize(self, rows: int, cols: int) -> None:
        """See Process.resize."""
        await self._requests.put(pb.InteractRequest(resize=_direct.window(rows, cols)))

    async def close(self) -> None:
        """See Process.close."""
        await self._requests.put(None)
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), 5.0)
            except TimeoutError:
                self._reader.cancel()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[OutputChunk]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[OutputChunk]:
        while True:
            chunk = await self._events.get()
            if chunk is None:
                self._events.put_nowait(None)
                if self._collector.end is None and self._error is not None:
                    raise self._error
                return
            yield chunk

    async def _outgoing(self) -> AsyncIterator[pb.InteractRequest]:
        while True:
            request = await self._requests.get()
            if request is None:
                return
            yield request

    async def _read(self) -> None:
        try:
            async for message in self._client._interact(self._outgoing()):
                event = _direct.stream_event(message)
                if event is None:
                    continue
                self._collector.add(event)
                if isinstance(event, ProcessStarted):
                    self._started.set()
                elif isinstance(event, OutputChunk):
                    await _call_back(self._callbacks[event.stream], event.text)
                    self._events.put_nowait(event)
                elif isinstance(event, ProcessEnded):
                    break
        except Exception as error:  # ConnectError or a broken connection
            self._error = _direct.sidecar_error("interact", error)
        finally:
            self._requests.put_nowait(None)
            self._finished.set()
            self._started.set()
            self._events.put_nowait(None)


async def _call_back(callback: OutputCallback | None, text: str) -> None:
    if callback is None:
        return
    outcome = callback(text)
    if inspect.isawaitable(outcome):
        await outcome


def _transport(connect_timeout: float, version: HTTPVersion | None) -> HTTPTransport:
    return HTTPTransport(
        connect_timeout=connect_timeout,
        enable_otel=False,
        tcp_keepalive_interval=30.0,
        http_version=version,
        enable_gzip=False,
        enable_brotli=False,
        enable_zstd=False,
    )


def _stub(base_url: str, transport: HTTPTransport) -> SidecarServiceClient:
    return SidecarServiceClient(
        base_url,
        codec=google_protobuf_binary_codec(),
        send_compression=None,
        accept_compression=(),
        http_client=Client(transport),
    )
