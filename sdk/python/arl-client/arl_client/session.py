"""SandboxSession: a Sandbox for the length of a ``with`` block, Tasks on demand.

    with SandboxSession("python-pool", namespace="default") as session:
        result = session.execute([{"name": "run", "type": "Command", "command": ["true"]}])
        print(result["status"]["state"], result["status"]["exitCode"])
        print(session.run("echo direct", on_stdout=print).exit_code)

Entering creates a Sandbox with a unique name and waits (by watching) until
it is Ready. While it waits, what the direct path needs is fetched as soon as
the Sandbox names its pod (the sidecar token Secret); once Ready, the
sidecar connection is opened and warmed in the background, so the first
``run`` does not pay for it. The waits use the process's shared watches of
Sandboxes and Tasks (shared_watch.for_process), so no session sends a watch
request of its own.
``execute`` creates a Task and waits (by watching) until it ends; ``run``,
``spawn``, ``pty`` and ``files`` go straight to the sidecar. Leaving deletes
the Tasks and the Sandbox the session created, also after an exception or
Ctrl-C, and waits until the Sandbox is gone. With ``keep_alive=True`` the
Sandbox (and its Tasks) are left in place on exit, for another session
(``SandboxSession(..., name=session.name)``) or kubectl.

Sessions share the process's Kubernetes ApiClient (kube.shared_api_client),
which is safe across threads (the manual's ThreadPoolExecutor example) and
keeps its connections alive between sessions. The logic shared
with AsyncSandboxSession is in _plan.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, wait
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from . import _plan, _threads, kube, portforward, shared_watch, verdicts
from ._plan import ConnectVia
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
from .shared_watch import SharedWatch
from .steps import StepInput
from .watch import DeadlineExceeded, wait_for

if TYPE_CHECKING:  # the Connect stack loads in the background during open (see _connect_sidecar)
    from ._direct import Command
    from .files import Files
    from .sidecar import OutputCallback, Process, SidecarClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Kept for callers that imported them from here.
MANAGED_BY_LABEL = _plan.MANAGED_BY_LABEL
MANAGED_BY = _plan.MANAGED_BY
SANDBOX_LABEL = _plan.SANDBOX_LABEL
SIDECAR_HTTP_PORT = _plan.SIDECAR_HTTP_PORT


class SandboxSession:
    """A Sandbox from ``pool_ref`` for the duration of a ``with`` block.

    Args:
        pool_ref: the WarmPool to take a pod from.
        namespace: namespace of the pool, the Sandbox and its Tasks.
        keep_alive: leave the Sandbox (and its Tasks) in place on exit, for
            reuse; by default the session deletes them.
        timeout: how long to wait for the Sandbox to become Ready (seconds or
            a duration string such as "2m"; > 0).
        name: use this Sandbox name instead of a generated one; if a Sandbox
            of that name exists, the session attaches to it and never deletes it.
        idle_timeout: spec.idleTimeoutSeconds of the Sandbox: the operator
            deletes it after this long without a task, a guard against leaks
            when this process dies without cleaning up. None disables it.
        labels: extra labels for the Sandbox and its Tasks.
        task_ttl: spec.ttlSecondsAfterFinished of the session's Tasks (None:
            kept until the session deletes them).
        cleanup_timeout: how long exit waits for the Sandbox to be gone.
        api_client: a kubernetes ApiClient to use instead of one built from
            KUBECONFIG / the in-cluster config. The session does not close it.
        context: the kubeconfig context to use.
        connect_via: how the direct path reaches the sidecar: "pod-ip"
            (``http://<pod IP>:8080``), "port-forward" (through the API
            server's pods/portforward, for an SDK outside the cluster) or
            "auto" (the pod IP if it accepts a connection within 0.3 s, else
            port-forward). Default: $ARL_CONNECT_VIA or "auto".
    """

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
        self._lock = threading.Lock()
        self._token: Future[str | None] | None = None
        self._sidecar: Future[SidecarClient] | None = None
        self._watcher: Future[SharedWatch] | None = None
        self._owns_watcher = False  # a watch of this session's own (a caller's ApiClient): close stops it
        self._token_secrets: SharedWatch | None = None  # the process's watch of the pool's token Secrets
        self._warm: Future[None] | None = None
        self._closing = False
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

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(raise_errors=exc is None)

    def open(self) -> Self:
        """Creates (or attaches to) the Sandbox and waits until it is Ready.

        On any failure, Ctrl-C included, deletes what it created before
        raising.
        """
        if self._open:
            return self
        self._closing = False
        try:
            self._open_sandbox()
        except BaseException:
            self.close(raise_errors=False)
            raise
        self._open = True
        return self

    def close(self, raise_errors: bool = True) -> None:
        """Deletes the session's Tasks and Sandbox (unless keep_alive) and
        waits until the Sandbox is gone. Safe to call more than once."""
        self._open = False
        self._closing = True
        errors: list[BaseException] = []
        with self._lock:
            sidecar, self._sidecar = self._sidecar, None
            watcher, self._watcher = self._watcher, None
            self._token = None
        # The session's background work ends here, not after close (or, in a
        # script that ends now, during the interpreter's exit): see _threads.
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        _settle(sidecar, deadline)
        with self._lock:
            warm, self._warm = self._warm, None
        _settle(warm, deadline)
        _settle(watcher, deadline)
        _when_done(sidecar, lambda c: c.close())
        if self._owns_watcher:
            _when_done(watcher, lambda w: w.stop())
        with self._lock:
            forward, self._forward = self._forward, None
        if forward is not None:
            forward.close()
        if self._created and not self.keep_alive and self._custom is not None:
            try:
                self._delete_created()
            except BaseException as error:  # noqa: BLE001 - reported below, never swallowed silently
                errors.append(error)
            self._created = False
        elif self._created:
            logger.info("keeping sandbox %s/%s (keep_alive)", self.namespace, self.name)
        self._api_client = None  # given by the caller or shared: never closed here
        self._token_secrets = None
        self._custom = None
        if errors:
            if raise_errors or not isinstance(errors[0], Exception):
                raise errors[0]
            logger.warning("cleanup of sandbox %s/%s failed: %s", self.namespace, self.name, errors[0])

    # -- state -----------------------------------------------------------

    @property
    def sandbox(self) -> dict[str, Any]:
        """The Sandbox object as last seen (Ready once the session is open)."""
        if self._sandbox is None:
            raise SessionClosedError("the session has no sandbox yet: use it in a with block")
        return self._sandbox

    @property
    def pod_name(self) -> str:
        return _plan.pod_name(self._sandbox)

    @property
    def pod_ip(self) -> str:
        return _plan.pod_ip(self._sandbox)

    @property
    def sidecar(self) -> SidecarClient:
        """A direct Connect client to this sandbox's sidecar (the low-latency
        path: no Task objects, no apiserver round trips). Opened and warmed
        during ``open``; this waits for that if it is still under way."""
        self._require_open()
        with self._lock:
            future = self._sidecar
            if future is None:
                future = self._sidecar = _threads.submit("arl-sidecar-connect", self._connect_sidecar)
        return future.result()

    @property
    def files(self) -> Files:
        """The sandbox's files (``session.files.write``, ``read``, ...)."""
        return self.sidecar.files

    # -- the direct path ---------------------------------------------------

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
        """Runs ``command`` on the direct path and returns its ExecResult,
        calling ``on_stdout`` / ``on_stderr`` with output as it comes
        (SidecarClient.run)."""
        return self.sidecar.run(
            command, on_stdout=on_stdout, on_stderr=on_stderr, timeout=timeout, env=env, cwd=cwd, stdin=stdin
        )

    def spawn(
        self,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
    ) -> Process:
        """Starts ``command`` and returns its Process handle (SidecarClient.spawn)."""
        return self.sidecar.spawn(command, env=env, cwd=cwd, on_stdout=on_stdout, on_stderr=on_stderr)

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
        """An interactive terminal running ``command`` (SidecarClient.pty)."""
        return self.sidecar.pty(command, rows, cols, env=env, cwd=cwd, on_output=on_output)

    # -- tasks -----------------------------------------------------------

    def execute(
        self,
        steps: Sequence[StepInput],
        timeout: Duration = "30s",
        *,
        retries: int = 0,
        wait_timeout: Duration | None = None,
    ) -> dict[str, Any]:
        """Runs steps as a Task in the sandbox and returns the finished Task as a dict.

        ``result['status']['state']`` is Succeeded or Failed (a step exited
        non-zero: see ``stdout``, ``stderr``, ``exitCode``). ``stdout`` and
        ``stderr`` are always present ("" when empty, which the apiserver
        omits).

        Raises:
            InvalidArgumentError: (a ValueError) a step, the timeout or
                retries is invalid (checked before anything is sent).
            TaskRejectedError: the apiserver refused the Task (webhook denial).
            TaskTimeoutError: the Task timed out (spec.timeout), or did not
                finish within ``wait_timeout`` (default: timeout * (retries+1) + 30s).
            TaskFailedError: the Task failed for another reason than its steps.
        """
        self._require_open()
        call = _plan.task_call(steps, timeout, retries, wait_timeout)
        body = _plan.task_body(self.options, self.sandbox, call)
        task_name = body["metadata"]["name"]
        started = time.monotonic()
        watcher = self._task_watcher()
        watcher.expect(task_name)
        try:
            created = self._create_task(body)
            result = watcher.wait(created, verdicts.task_finished, started + call.budget)
        except DeadlineExceeded as exceeded:
            state = (exceeded.last.get("status") or {}).get("state") or "unset"
            raise TaskTimeoutError(
                task_name, f"not finished after {call.budget:g}s (state {state})", exceeded.last
            ) from None
        finally:
            watcher.forget(task_name)
        _plan.fill_output_fields(result)
        logger.debug(
            "task %s %s in %.1f ms", task_name, result["status"].get("state"),
            (time.monotonic() - started) * 1000,
        )
        return result

    # -- internals -------------------------------------------------------

    def _api(self) -> Any:
        if self._custom is None:
            raise SessionClosedError("the session is closed: use it inside its with block")
        return self._custom

    def _get(self, plural: str, name: str) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            self._api().get_namespaced_custom_object(kube.GROUP, kube.VERSION, self.namespace, plural, name),
        )

    def _create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            self._api().create_namespaced_custom_object(kube.GROUP, kube.VERSION, self.namespace, plural, body),
        )

    def _task_watcher(self) -> SharedWatch:
        with self._lock:
            future = self._watcher
            if future is None:
                future, self._owns_watcher = self._task_watch()
                self._watcher = future
        return future.result()

    def _task_watch(self) -> tuple[Future[SharedWatch], bool]:
        """The Task watch this session waits on, and whether it is the
        session's own (close stops it): the process's, or on a caller's
        ApiClient one that selects by the Sandbox's name, known before it
        exists, started in the background beside the create."""
        if self._shares_watches():
            return _completed(shared_watch.for_process(self._api_client, self.namespace, kube.TASKS)), False
        return _threads.submit("arl-task-watch-start", self._start_watcher), True

    def _start_watcher(self) -> SharedWatch:
        watcher = SharedWatch(self._api(), self.namespace, kube.TASKS, _plan.task_selector(self.options))
        watcher.start()
        return watcher

    def _shares_watches(self) -> bool:
        """Sessions on the process's shared ApiClient wait on the process's
        shared watches; a caller's ApiClient (which may be closed after the
        session) gets watches of the session's own."""
        return self._given_api_client is None

    def _require_open(self) -> None:
        if not self._open:
            raise SessionClosedError("the session is not open: use it inside its with block")

    def _open_sandbox(self) -> None:
        self._api_client = self._given_api_client or kube.shared_api_client(context=self.options.context)
        self._custom = client.CustomObjectsApi(self._api_client)
        self._check_pool()
        with self._lock:
            self._watcher, self._owns_watcher = self._task_watch()
        sandboxes: SharedWatch | None = None
        if self._shares_watches():
            # The process's watches; the first session starts them, beside its create.
            sandboxes = shared_watch.for_process(self._api_client, self.namespace, kube.SANDBOXES)
            self._token_secrets = shared_watch.for_process(
                self._api_client, self.namespace, shared_watch.SECRETS,
                _plan.pool_secrets_selector(self.pool_ref), keep_all=True,
            )
        started = time.monotonic()
        if sandboxes is not None:
            sandboxes.expect(self.name)
        try:
            sandbox = self._create_or_attach()
            deadline = started + self.options.timeout
            if sandboxes is not None and _plan.created_by_this_process(sandbox):
                self._sandbox = sandboxes.wait(sandbox, self._ready_and_prefetch, deadline)
            else:  # attached to a Sandbox of another process: the shared watch does not see it
                self._sandbox = wait_for(
                    self._custom, self.namespace, kube.SANDBOXES, sandbox, self._ready_and_prefetch, deadline
                )
        except DeadlineExceeded as exceeded:
            self._sandbox = exceeded.last
            raise _plan.not_ready_error(self.options, exceeded.last) from None
        finally:
            if sandboxes is not None:
                sandboxes.forget(self.name)
        # Warm up in the background: open returns now, the first call joins it.
        with self._lock:
            self._sidecar = _threads.submit("arl-sidecar-connect", self._connect_sidecar)
        logger.debug("sandbox %s Ready in %.1f ms", self.name, (time.monotonic() - started) * 1000)

    def _ready_and_prefetch(self, event_type: str, sandbox: dict[str, Any]) -> dict[str, Any] | None:
        """verdicts.sandbox_ready, and as soon as the Sandbox names its pod,
        the token Secret is fetched beside the wait."""
        pod = _plan.pod_name(sandbox)
        if pod and self._token is None:
            self._token = self._fetch_token(pod)
        return verdicts.sandbox_ready(event_type, sandbox)

    def _check_pool(self) -> None:
        if kube.pool_known(self._api_client, self.namespace, self.pool_ref):
            return
        try:
            self._get(kube.WARMPOOLS, self.pool_ref)
        except ApiException as error:
            if error.status == 404:
                raise PoolNotFoundError(self.pool_ref, self.namespace) from None
            if error.status != 403:  # no right to read pools: the sandbox will tell
                raise
            return
        kube.remember_pool(self._api_client, self.namespace, self.pool_ref)

    def _create_or_attach(self) -> dict[str, Any]:
        body = _plan.sandbox_body(self.options)
        # With a generated name, a create cut short (Ctrl-C while the request
        # is in flight) may still have happened: count it as created so that
        # close() deletes it (a 404 there is fine). A caller's name may be an
        # existing sandbox, which must never be deleted.
        self._created = self.options.generated_name
        try:
            sandbox = self._create(kube.SANDBOXES, body)
        except ApiException as error:
            self._created = False
            if error.status != 409:
                raise
            sandbox = self._get(kube.SANDBOXES, self.name)
            _plan.check_attach(self.options, sandbox)
            logger.info("attached to existing sandbox %s/%s", self.namespace, self.name)
            self._sandbox = sandbox
            return sandbox
        self._created = True
        self._sandbox = sandbox
        return sandbox

    def _create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        self._made_tasks = True  # before the request: a create cut short may still have happened
        try:
            return self._create(kube.TASKS, body)
        except ApiException as error:
            if error.status in _plan.REJECTED_STATUSES:
                message = _plan.api_message(error.body, str(error.reason or error))
                raise TaskRejectedError(name, error.status, message) from None
            raise

    def _fetch_token(self, pod: str) -> Future[str | None]:
        """The pod's token: from the process's watch of the pool's token
        Secrets when it has seen the Secret (no request), else read in the
        background with this session's API client of now (close unsets it)."""
        secrets = self._token_secrets
        secret = secrets.get(_plan.sidecar_token_secret_name(pod)) if secrets is not None else None
        if secret is not None:
            return _completed(_plan.token_from_secret_data(secret.get("data")))
        api_client, namespace = self._api_client, self.namespace
        return _threads.submit("arl-sidecar-token", lambda: _read_token(api_client, namespace, pod))

    def _connect_sidecar(self) -> SidecarClient:
        """The endpoint (pod IP or a port-forward) and the token (its read
        started during the wait); one call opens and warms a connection
        beside the token read."""
        from .sidecar import SidecarClient  # noqa: PLC0415 - imported here, beside the Ready wait

        pod, ip = self.pod_name, self.pod_ip
        if not ip or not pod:
            raise SandboxFailedError(self.name, "NoPodIP", "the sandbox has no status.podIP")
        api_client = self._api_client
        token_future = self._token or self._fetch_token(pod)
        url = f"http://{ip}:{_plan.SIDECAR_HTTP_PORT}"
        via = self.options.connect_via
        if via == "port-forward" or (via == "auto" and not portforward.reachable(ip, _plan.SIDECAR_HTTP_PORT)):
            if via == "auto":
                logger.info("pod IP %s not reachable: using the API server's port-forward", ip)
            forward = portforward.open_port_forward(
                api_client, self.namespace, pod, _plan.SIDECAR_HTTP_PORT, context=self.options.context
            )
            with self._lock:
                self._forward = forward
            url = forward.url
        # Health needs no token: the connection is opened and warmed while the
        # token is still being read. The first call does not wait for the
        # warm-up: it opens a connection of its own if Health still holds this one.
        sidecar = SidecarClient(url)
        warm = _threads.submit("arl-sidecar-warm", lambda: _warm_up(sidecar))
        with self._lock:
            self._warm = warm
        try:
            token = token_future.result()
            if self._closing:
                raise SessionClosedError("the session closed while connecting to its sidecar")
        except BaseException:
            _when_done(warm, lambda _: sidecar.close())
            raise
        sidecar._use_token(token)  # noqa: SLF001 - the session finishes building its client
        return sidecar

    def _delete_created(self) -> None:
        api = self._api()
        if self._made_tasks:
            # Others' Tasks of this Sandbox go with it: they name it as their owner.
            try:
                api.delete_collection_namespaced_custom_object(
                    kube.GROUP, kube.VERSION, self.namespace, kube.TASKS,
                    label_selector=_plan.cleanup_selector(self.options),
                )
            except ApiException as error:
                if error.status != 404:
                    raise
        try:
            deleted = api.delete_namespaced_custom_object(
                kube.GROUP, kube.VERSION, self.namespace, kube.SANDBOXES, self.name,
                propagation_policy="Background",
            )
        except ApiException as error:
            if error.status == 404:
                return
            raise
        if _plan.deleted_at_once(deleted):
            return
        self._wait_gone()

    def _wait_gone(self) -> None:
        try:
            current = self._get(kube.SANDBOXES, self.name)
        except ApiException as error:
            if error.status == 404:
                return
            raise
        try:
            wait_for(
                self._api(), self.namespace, kube.SANDBOXES, current, verdicts.gone,
                time.monotonic() + self.options.cleanup_timeout,
            )
        except DeadlineExceeded:
            raise ArlError(
                f"sandbox {self.namespace}/{self.name} still exists {self.options.cleanup_timeout:g}s "
                "after its deletion (a finalizer?)"
            ) from None


def _warm_up(sidecar: SidecarClient) -> None:
    try:
        sidecar.health()
    except ArlError as error:
        logger.debug("warming the sidecar connection failed: %s", error)


def _read_token(api_client: Any, namespace: str, pod: str) -> str | None:
    """The sidecar token from the pod's Secret; None when the pool has no sidecar auth."""
    core = client.CoreV1Api(api_client)
    try:
        secret = core.read_namespaced_secret(_plan.sidecar_token_secret_name(pod), namespace)
    except ApiException as error:
        if error.status == 404:  # the pool runs with sidecarAuth: None
            return None
        raise
    return _plan.token_from_secret_data(secret.data)


def _completed(value: T) -> Future[T]:
    """A Future that already holds ``value``."""
    future: Future[T] = Future()
    future.set_result(value)
    return future


# How long close waits for the session's background work (connecting to the
# sidecar, warming the connection, starting the Task watch); work still running
# then cleans up after itself when it ends.
CLOSE_WAIT_SECONDS = 5.0


def _settle(future: Future[Any] | None, deadline: float) -> None:
    """Waits until ``future`` is done or ``deadline`` (time.monotonic) passes."""
    if future is not None:
        wait([future], timeout=max(0.0, deadline - time.monotonic()))


def _when_done(future: Future[T] | None, cleanup: Callable[[T], object]) -> None:
    """Runs ``cleanup`` on the future's result once there is one (now, or when it arrives)."""
    if future is None:
        return

    def done(finished: Future[T]) -> None:
        if finished.exception() is None:
            cleanup(finished.result())

    future.add_done_callback(done)
