"""SandboxSession: a Sandbox for the length of a ``with`` block, Tasks on demand.

    with SandboxSession("python-pool", namespace="default") as session:
        result = session.execute([{"name": "run", "type": "Command", "command": ["true"]}])
        print(result["status"]["state"], result["status"]["exitCode"])

Entering creates a Sandbox with a unique name and waits (by watching) until
it is Ready; ``execute`` creates a Task and waits (by watching) until it ends;
leaving deletes the Tasks and the Sandbox the session created, also after an
exception or Ctrl-C, and waits until the Sandbox is gone. With
``keep_alive=True`` the Sandbox (and its Tasks) are left in place on exit, for
another session (``SandboxSession(..., name=session.name)``) or kubectl.

Each session has its own Kubernetes ApiClient, so sessions may run on
separate threads (the manual's ThreadPoolExecutor example).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self, cast

from kubernetes import client
from kubernetes.client.rest import ApiException

from . import kube, verdicts
from .durations import Duration, format_duration, parse_duration
from .exceptions import (
    ArlError,
    PoolNotFoundError,
    SandboxFailedError,
    SandboxTimeoutError,
    SessionClosedError,
    TaskRejectedError,
    TaskTimeoutError,
)
from .names import unique_name
from .sidecar import SidecarClient
from .steps import StepInput, build_steps
from .task_watcher import TaskWatcher
from .watch import DeadlineExceeded, wait_for

logger = logging.getLogger(__name__)

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "arl-client"
SANDBOX_LABEL = "arl.infra.io/sandbox"
SIDECAR_HTTP_PORT = 8080
SIDECAR_TOKEN_KEY = "token"


def sidecar_token_secret_name(pod_name: str) -> str:
    """The Secret holding a pool pod's sidecar token: named like the pod."""
    return pod_name
# Time a task may spend before its first attempt starts (sandbox hand-over,
# controller queueing) on top of timeout * (retries + 1).
TASK_START_SLACK = 30.0
_REJECTED_STATUSES = frozenset({400, 403, 422})


class SandboxSession:
    """A Sandbox from ``pool_ref`` for the duration of a ``with`` block.

    Args:
        pool_ref: the WarmPool to take a pod from.
        namespace: namespace of the pool, the Sandbox and its Tasks.
        keep_alive: leave the Sandbox (and its Tasks) in place on exit, for
            reuse; by default the session deletes them.
        timeout: how long to wait for the Sandbox to become Ready (seconds or
            a duration string such as "2m").
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
        api_client: client.ApiClient | None = None,
        context: str | None = None,
    ) -> None:
        if not pool_ref:
            raise ValueError("pool_ref must name a WarmPool")
        self.pool_ref = pool_ref
        self.namespace = namespace
        self.keep_alive = keep_alive
        self.timeout = parse_duration(timeout)
        self.name = name or unique_name(pool_ref)
        self._generated_name = name is None
        self.idle_timeout = None if idle_timeout is None else parse_duration(idle_timeout)
        self.labels = dict(labels or {})
        self.task_ttl = None if task_ttl is None else parse_duration(task_ttl)
        self.cleanup_timeout = parse_duration(cleanup_timeout)
        self._given_api_client = api_client
        self._context = context
        self._api_client: client.ApiClient | None = None
        self._custom: client.CustomObjectsApi | None = None
        self._sandbox: dict[str, Any] | None = None
        self._created = False
        self._open = False
        self._lock = threading.Lock()
        self._sidecar: SidecarClient | None = None
        self._watcher: TaskWatcher | None = None

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
        errors: list[BaseException] = []
        with self._lock:
            sidecar, self._sidecar = self._sidecar, None
            watcher, self._watcher = self._watcher, None
        if sidecar is not None:
            sidecar.close()
        if watcher is not None:
            watcher.stop()
        if self._created and not self.keep_alive and self._custom is not None:
            try:
                self._delete_created()
            except BaseException as error:  # noqa: BLE001 - reported below, never swallowed silently
                errors.append(error)
            self._created = False
        elif self._created:
            logger.info("keeping sandbox %s/%s (keep_alive)", self.namespace, self.name)
        if self._api_client is not None and self._given_api_client is None:
            self._api_client.close()
        self._api_client = None
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
        return str((self.sandbox.get("status") or {}).get("podName", ""))

    @property
    def pod_ip(self) -> str:
        return str((self.sandbox.get("status") or {}).get("podIP", ""))

    @property
    def sidecar(self) -> SidecarClient:
        """A direct Connect client to this sandbox's sidecar (the low-latency
        path: no Task objects, no apiserver round trips)."""
        self._require_open()
        with self._lock:
            if self._sidecar is None:
                if not self.pod_ip:
                    raise SandboxFailedError(self.name, "NoPodIP", "the sandbox has no status.podIP")
                self._sidecar = SidecarClient(
                    f"http://{self.pod_ip}:{SIDECAR_HTTP_PORT}", token=self._sidecar_token()
                )
            return self._sidecar

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
            ValueError: a step is invalid (checked before anything is sent).
            TaskRejectedError: the apiserver refused the Task (webhook denial).
            TaskTimeoutError: the Task timed out (spec.timeout), or did not
                finish within ``wait_timeout`` (default: timeout * (retries+1) + 30s).
            TaskFailedError: the Task failed for another reason than its steps.
        """
        self._require_open()
        task_steps = build_steps(steps)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise ValueError(f"retries must be an integer from 0 to 10, got {retries!r}")
        attempt_timeout = parse_duration(timeout)
        budget = (
            parse_duration(wait_timeout)
            if wait_timeout is not None
            else attempt_timeout * (retries + 1) + TASK_START_SLACK
        )
        body = self._task_body(task_steps, format_duration(timeout), retries)
        task_name = body["metadata"]["name"]
        started = time.monotonic()
        watcher = self._task_watcher()
        watcher.expect(task_name)
        try:
            created = self._create_task(body)
            result = watcher.wait(created, verdicts.task_finished, started + budget)
        except DeadlineExceeded as exceeded:
            state = (exceeded.last.get("status") or {}).get("state") or "unset"
            raise TaskTimeoutError(
                task_name, f"not finished after {budget:g}s (state {state})", exceeded.last
            ) from None
        finally:
            watcher.forget(task_name)
        _fill_output_fields(result)
        logger.debug(
            "task %s %s in %.1f ms", task_name, result["status"].get("state"),
            (time.monotonic() - started) * 1000,
        )
        return result

    # -- internals -------------------------------------------------------

    def _api(self) -> client.CustomObjectsApi:
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

    def _task_watcher(self) -> TaskWatcher:
        with self._lock:
            if self._watcher is None:
                selector = f"{SANDBOX_LABEL}={self.name}"
                watcher = TaskWatcher(self._api(), self.namespace, kube.TASKS, selector)
                watcher.start()
                self._watcher = watcher
            return self._watcher

    def _require_open(self) -> None:
        if not self._open:
            raise SessionClosedError("the session is not open: use it inside its with block")

    def _open_sandbox(self) -> None:
        self._api_client = self._given_api_client or kube.new_api_client(context=self._context)
        self._custom = client.CustomObjectsApi(self._api_client)
        self._check_pool()
        started = time.monotonic()
        sandbox = self._create_or_attach()
        try:
            self._sandbox = wait_for(
                self._custom, self.namespace, kube.SANDBOXES, sandbox, verdicts.sandbox_ready,
                started + self.timeout,
            )
        except DeadlineExceeded as exceeded:
            self._sandbox = exceeded.last
            status = exceeded.last.get("status") or {}
            reason = verdicts.condition(exceeded.last, "Ready").get("reason", "")
            raise SandboxTimeoutError(self.name, self.timeout, status.get("phase", ""), reason) from None
        logger.debug("sandbox %s Ready in %.1f ms", self.name, (time.monotonic() - started) * 1000)

    def _check_pool(self) -> None:
        try:
            self._get(kube.WARMPOOLS, self.pool_ref)
        except ApiException as error:
            if error.status == 404:
                raise PoolNotFoundError(self.pool_ref, self.namespace) from None
            if error.status != 403:  # no right to read pools: the sandbox will tell
                raise

    def _create_or_attach(self) -> dict[str, Any]:
        body = self._sandbox_body()
        # With a generated name, a create cut short (Ctrl-C while the request
        # is in flight) may still have happened: count it as created so that
        # close() deletes it (a 404 there is fine). A caller's name may be an
        # existing sandbox, which must never be deleted.
        self._created = self._generated_name
        try:
            sandbox = self._create(kube.SANDBOXES, body)
        except ApiException as error:
            self._created = False
            if error.status != 409:
                raise
            sandbox = self._get(kube.SANDBOXES, self.name)
            pool = (sandbox.get("spec") or {}).get("poolRef")
            if pool != self.pool_ref:
                raise ArlError(
                    f"sandbox {self.namespace}/{self.name} exists with poolRef {pool!r}, "
                    f"not {self.pool_ref!r}"
                ) from None
            logger.info("attached to existing sandbox %s/%s", self.namespace, self.name)
            self._sandbox = sandbox
            return sandbox
        self._created = True
        self._sandbox = sandbox
        return sandbox

    def _sandbox_body(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"poolRef": self.pool_ref, "keepAlive": True}
        if self.idle_timeout is not None:
            spec["idleTimeoutSeconds"] = max(1, round(self.idle_timeout))
        return {
            "apiVersion": kube.API_VERSION,
            "kind": "Sandbox",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {**self.labels, MANAGED_BY_LABEL: MANAGED_BY},
            },
            "spec": spec,
        }

    def _task_body(self, steps: list[dict[str, Any]], timeout: str, retries: int) -> dict[str, Any]:
        sandbox = self.sandbox
        spec: dict[str, Any] = {
            "sandboxRef": self.name,
            "timeout": timeout,
            "retries": retries,
            "steps": steps,
        }
        if self.task_ttl is not None:
            spec["ttlSecondsAfterFinished"] = round(self.task_ttl)
        return {
            "apiVersion": kube.API_VERSION,
            "kind": "Task",
            "metadata": {
                "name": unique_name(self.name[:40]),
                "namespace": self.namespace,
                "labels": {**self.labels, MANAGED_BY_LABEL: MANAGED_BY, SANDBOX_LABEL: self.name},
                "ownerReferences": [
                    {
                        "apiVersion": kube.API_VERSION,
                        "kind": "Sandbox",
                        "name": self.name,
                        "uid": sandbox["metadata"]["uid"],
                    }
                ],
            },
            "spec": spec,
        }

    def _create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        try:
            return self._create(kube.TASKS, body)
        except ApiException as error:
            if error.status in _REJECTED_STATUSES:
                raise TaskRejectedError(name, error.status, api_message(error)) from None
            raise

    def _sidecar_token(self) -> str | None:
        core = client.CoreV1Api(self._api_client)
        try:
            secret = core.read_namespaced_secret(sidecar_token_secret_name(self.pod_name), self.namespace)
        except ApiException as error:
            if error.status == 404:  # the pool runs with sidecarAuth: None
                return None
            raise
        encoded = (secret.data or {}).get(SIDECAR_TOKEN_KEY)
        return base64.b64decode(encoded).decode() if encoded else None

    def _delete_created(self) -> None:
        api = self._api()
        selector = f"{SANDBOX_LABEL}={self.name},{MANAGED_BY_LABEL}={MANAGED_BY}"
        try:
            api.delete_collection_namespaced_custom_object(
                kube.GROUP, kube.VERSION, self.namespace, kube.TASKS, label_selector=selector
            )
        except ApiException as error:
            if error.status != 404:
                raise
        try:
            api.delete_namespaced_custom_object(
                kube.GROUP, kube.VERSION, self.namespace, kube.SANDBOXES, self.name,
                propagation_policy="Background",
            )
        except ApiException as error:
            if error.status == 404:
                return
            raise
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
                time.monotonic() + self.cleanup_timeout,
            )
        except DeadlineExceeded:
            raise ArlError(
                f"sandbox {self.namespace}/{self.name} still exists {self.cleanup_timeout:g}s "
                "after its deletion (a finalizer?)"
            ) from None


def _fill_output_fields(task: dict[str, Any]) -> None:
    """The apiserver omits empty strings (``omitempty``): a task that printed
    nothing has no status.stderr. Fill them in so the manual's
    ``result['status']['stderr']`` works for every finished task."""
    status = task.setdefault("status", {})
    status.setdefault("stdout", "")
    status.setdefault("stderr", "")
    status.setdefault("exitCode", None)


def api_message(error: ApiException) -> str:
    """The apiserver's own message in an ApiException (the Status body)."""
    try:
        body = json.loads(error.body or "")
    except (TypeError, ValueError):
        return str(error.reason or error)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(error.reason or error)
