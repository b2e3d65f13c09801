"""AsyncSandboxSession: the ``async with`` twin of SandboxSession, on asyncio end to end.

    async with AsyncSandboxSession("python-pool") as session:
        result = await session.execute(steps)
        done = await session.run("make", on_stdout=print)

The apiserver calls go through kubernetes_asyncio and the sidecar calls
through the async Connect stubs (AsyncSidecarClient): no worker thread per
call. The logic is the sync session's (_plan.py, verdicts.py, steps.py,
names.py); only the I/O differs. Leaving the block, also by an exception or
a cancellation, deletes what the session created.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self, cast

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from . import _plan, kube, portforward, verdicts
from ._direct import Command
from ._plan import ConnectVia
from .async_files import AsyncFiles
from .async_sidecar import AsyncProcess, AsyncSidecarClient, OutputCallback
from .async_watch import AsyncTaskWatcher, new_api_client, wait_for
from .durations import Duration
from .exceptions import (
    ArlError,
    PoolNotFoundError,
    SandboxFailedError,
    SessionClosedError,
    TaskRejectedError,
    TaskTimeoutError,
)
from .results import ExecResult
from .steps import StepInput
from .watch import DeadlineExceeded

logger = logging.getLogger(__name__)


class AsyncSandboxSession:
    """Takes the same arguments as SandboxSession; every method is awaited."""

    def __init__(
        self,
        pool_ref: str,
        namespace: str = "default",
        keep_alive: bool = False,
        timeout: Duration = 120.0,
        *,
        name: str | None = None,
        idle_timeout: Duration | None = "1h",
        labels: Mapping[str, str] | None = None,
        task_ttl: Duration | None = None,
        cleanup_timeout: Duration = 30.0,
        api_client: Any = None,
        context: str | None = None,
        connect_via: ConnectVia | None = None,
    ) -> None:
        self.options = _plan.session_options(
            pool_ref, namespace, keep_alive, timeout, name=name, idle_timeout=idle_timeout, labels=labels,
            task_ttl=task_ttl, cleanup_timeout=cleanup_timeout, context=context, connect_via=connect_via,
        )
        self._given_api_client = api_client
        self._api_client: Any = None
        self._custom: Any = None
        self._sandbox: dict[str, Any] | None = None
        self._created = False
        self._made_tasks = False  # a Task create was sent (close deletes the session's Tasks)
        self._open = False
        self._token: asyncio.Task[str | None] | None = None
        self._sidecar: AsyncSidecarClient | None = None
        self._warm: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[AsyncTaskWatcher] | None = None
        self._forward: portforward.PortForward | portforward.KubectlPortForward | None = None

    # -- options ---------------------------------------------------------

    @property
    def name(self) -> str:
        """The Sandbox's name."""
        return self.options.name

    @property
    def pool_ref(self) -> str:
        return self.options.pool_ref

    @property
    def namespace(self) -> str:
        return self.options.namespace

    @property
    def keep_alive(self) -> bool:
        return self.options.keep_alive

    # -- lifecycle -------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Shielded: a cancellation of the caller still lets the clean-up finish.
        await asyncio.shield(self.close(raise_errors=exc is None))

    async def open(self) -> Self:
        """See SandboxSession.open."""
        if self._open:
            return self
        try:
            await self._open_sandbox()
        except BaseException:
            await asyncio.shield(self.close(raise_errors=False))
            raise
        self._open = True
        return self

    async def close(self, raise_errors: bool = True) -> None:
        """See SandboxSession.close."""
        self._open = False
        errors: list[BaseException] = []
        for task in (self._warm, self._token):
            if task is not None:
                task.cancel()
        self._warm = self._token = None
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await (await watcher).stop()
        sidecar, self._sidecar = self._sidecar, None
        if sidecar is not None:
            await sidecar.close()
        forward, self._forward = self._forward, None
        if forward is not None:
            forward.close()
        if self._created and not self.keep_alive and self._custom is not None:
            try:
                await self._delete_created()
            except BaseException as error:  # noqa: BLE001 - reported below, never swallowed silently
                errors.append(error)
            self._created = False
        elif self._created:
            logger.info("keeping sandbox %s/%s (keep_alive)", self.namespace, self.name)
        if self._api_client is not None and self._given_api_client is None:
            await self._api_client.close()
        self._api_client = None
        self._custom = None
        if errors:
            if raise_errors or not isinstance(errors[0], Exception):
                raise errors[0]
            logger.warning("cleanup of sandbox %s/%s failed: %s", self.namespace, self.name, errors[0])

    # -- state -----------------------------------------------------------

    @property
    def sandbox(self) -> dict[str, Any]:
        """See SandboxSession.sandbox."""
        if self._sandbox is None:
            raise SessionClosedError("the session has no sandbox yet: use it in an async with block")
        return self._sandbox

    @property
    def pod_name(self) -> str:
        return _plan.pod_name(self._sandbox)

    @property
    def pod_ip(self) -> str:
        return _plan.pod_ip(self._sandbox)

    @property
    def sidecar(self) -> AsyncSidecarClient:
        """The direct client (AsyncSidecarClient), made during open."""
        self._require_open()
        if self._sidecar is None:
            raise SessionClosedError("the session has no sidecar client: it is not open")
        return self._sidecar

    @property
    def files(self) -> AsyncFiles:
        """See SandboxSession.files."""
        return self.sidecar.files

    # -- the direct path ---------------------------------------------------

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
        """See SandboxSession.run (callbacks may be coroutine functions)."""
        return await self.sidecar.run(
            command, on_stdout=on_stdout, on_stderr=on_stderr, timeout=timeout, env=env, cwd=cwd, stdin=stdin
        )

    async def spawn(
        self,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
    ) -> AsyncProcess:
        """See SandboxSession.spawn."""
        return await self.sidecar.spawn(command, env=env, cwd=cwd, on_stdout=on_stdout, on_stderr=on_stderr)

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
        """See SandboxSession.pty."""
        return await self.sidecar.pty(command, rows, cols, env=env, cwd=cwd, on_output=on_output)

    # -- tasks -----------------------------------------------------------

    async def execute(
        self,
        steps: Sequence[StepInput],
        timeout: Duration = "30s",
        *,
        retries: int = 0,
        wait_timeout: Duration | None = None,
    ) -> dict[str, Any]:
        """See SandboxSession.execute."""
        self._require_open()
        call = _plan.task_call(steps, timeout, retries, wait_timeout)
        body = _plan.task_body(self.options, self.sandbox, call)
        task_name = body["metadata"]["name"]
        started = time.monotonic()
        watcher = await self._task_watcher()
        watcher.expect(task_name)
        try:
            created = await self._create_task(body)
            result = await watcher.wait(created, verdicts.task_finished, started + call.budget)
        except DeadlineExceeded as exceeded:
            state = (exceeded.last.get("status") or {}).get("state") or "unset"
            raise TaskTimeoutError(
                task_name, f"not finished after {call.budget:g}s (state {state})", exceeded.last
            ) from None
        finally:
            watcher.forget(task_name)
        _plan.fill_output_fields(result)
        return result

    # -- internals -------------------------------------------------------

    def _api(self) -> Any:
        if self._custom is None:
            raise SessionClosedError("the session is closed: use it inside its async with block")
        return self._custom

    async def _get(self, plural: str, name: str) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            await self._api().get_namespaced_custom_object(kube.GROUP, kube.VERSION, self.namespace, plural, name),
        )

    async def _create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            await self._api().create_namespaced_custom_object(kube.GROUP, kube.VERSION, self.namespace, plural, body),
        )

    async def _task_watcher(self) -> AsyncTaskWatcher:
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._start_watcher())
        return await asyncio.shield(self._watcher)

    async def _start_watcher(self) -> AsyncTaskWatcher:
        watcher = AsyncTaskWatcher(self._api(), self.namespace, kube.TASKS, _plan.task_selector(self.options))
        await watcher.start()
        return watcher

    def _require_open(self) -> None:
        if not self._open:
            raise SessionClosedError("the session is not open: use it inside its async with block")

    async def _open_sandbox(self) -> None:
        self._api_client = self._given_api_client or await new_api_client(self.options.context)
        self._custom = client.CustomObjectsApi(self._api_client)
        await self._check_pool()
        # The Task watch selects by the Sandbox's name, known before it
        # exists: it starts beside the create and the Ready wait.
        self._watcher = asyncio.create_task(self._start_watcher())
        started = time.monotonic()
        sandbox = await self._create_or_attach()
        try:
            self._sandbox = await wait_for(
                self._custom, self.namespace, kube.SANDBOXES, sandbox, self._ready_and_prefetch,
                started + self.options.timeout,
            )
        except DeadlineExceeded as exceeded:
            self._sandbox = exceeded.last
            raise _plan.not_ready_error(self.options, exceeded.last) from None
        await self._connect_sidecar()

    def _ready_and_prefetch(self, event_type: str, sandbox: dict[str, Any]) -> dict[str, Any] | None:
        pod = _plan.pod_name(sandbox)
        if pod and self._token is None:
            self._token = asyncio.get_running_loop().create_task(self._read_token(pod))
        return verdicts.sandbox_ready(event_type, sandbox)

    async def _check_pool(self) -> None:
        if kube.pool_known(self._api_client, self.namespace, self.pool_ref):
            return
        try:
            await self._get(kube.WARMPOOLS, self.pool_ref)
        except ApiException as error:
            if error.status == 404:
                raise PoolNotFoundError(self.pool_ref, self.namespace) from None
            if error.status != 403:
                raise
            return
        kube.remember_pool(self._api_client, self.namespace, self.pool_ref)

    async def _create_or_attach(self) -> dict[str, Any]:
        body = _plan.sandbox_body(self.options)
        self._created = self.options.generated_name
        try:
            sandbox = await self._create(kube.SANDBOXES, body)
        except ApiException as error:
            self._created = False
            if error.status != 409:
                raise
            sandbox = await self._get(kube.SANDBOXES, self.name)
            _plan.check_attach(self.options, sandbox)
            self._sandbox = sandbox
            return sandbox
        self._created = True
        self._sandbox = sandbox
        return sandbox

    async def _create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        self._made_tasks = True  # before the request: a create cut short may still have happened
        try:
            return await self._create(kube.TASKS, body)
        except ApiException as error:
            if error.status in _plan.REJECTED_STATUSES:
                message = _plan.api_message(error.body, str(error.reason or error))
                raise TaskRejectedError(name, error.status, message) from None
            raise

    async def _read_token(self, pod: str) -> str | None:
        core = client.CoreV1Api(self._api_client)
        try:
            secret = await core.read_namespaced_secret(_plan.sidecar_token_secret_name(pod), self.namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return _plan.token_from_secret_data(secret.data)

    async def _connect_sidecar(self) -> None:
        """The client for the direct path (token fetched during the wait; pod
        IP or port-forward); its connection is warmed in the background."""
        pod, ip = self.pod_name, self.pod_ip
        if not ip or not pod:
            raise SandboxFailedError(self.name, "NoPodIP", "the sandbox has no status.podIP")
        token_task = self._token or asyncio.create_task(self._read_token(pod))
        url = f"http://{ip}:{_plan.SIDECAR_HTTP_PORT}"
        via = self.options.connect_via
        if via == "port-forward" or (via == "auto" and not await _reachable(ip, _plan.SIDECAR_HTTP_PORT)):
            sync_api = kube.new_api_client(context=self.options.context)
            self._forward = portforward.open_port_forward(
                sync_api, self.namespace, pod, _plan.SIDECAR_HTTP_PORT, context=self.options.context, owns_client=True
            )
            url = self._forward.url
        self._sidecar = AsyncSidecarClient(url, token=await token_task)
        self._warm = asyncio.create_task(self._warm_up(self._sidecar))

    @staticmethod
    async def _warm_up(sidecar: AsyncSidecarClient) -> None:
        try:
            await sidecar.health()
        except ArlError as error:
            logger.debug("warming the sidecar connection failed: %s", error)

    async def _delete_created(self) -> None:
        api = self._api()
        if self._made_tasks:
            # Others' Tasks of this Sandbox go with it: they name it as their owner.
            try:
                await api.delete_collection_namespaced_custom_object(
                    kube.GROUP, kube.VERSION, self.namespace, kube.TASKS,
                    label_selector=_plan.cleanup_selector(self.options),
                )
            except ApiException as error:
                if error.status != 404:
                    raise
        try:
            deleted = await api.delete_namespaced_custom_object(
                kube.GROUP, kube.VERSION, self.namespace, kube.SANDBOXES, self.name,
                propagation_policy="Background",
            )
        except ApiException as error:
            if error.status == 404:
                return
            raise
        if _plan.deleted_at_once(deleted):
            return
        try:
            current = await self._get(kube.SANDBOXES, self.name)
        except ApiException as error:
            if error.status == 404:
                return
            raise
        try:
            await wait_for(
                api, self.namespace, kube.SANDBOXES, current, verdicts.gone,
                time.monotonic() + self.options.cleanup_timeout,
            )
        except DeadlineExceeded:
            raise ArlError(
                f"sandbox {self.namespace}/{self.name} still exists {self.options.cleanup_timeout:g}s "
                "after its deletion (a finalizer?)"
            ) from None


async def _reachable(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), portforward.PROBE_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
