"""The session's logic, shared by SandboxSession and AsyncSandboxSession.

Pure functions of the session's options and the objects read back: the
checked options, the Sandbox and Task bodies, the label selectors, the
arguments of ``execute``, what an existing Sandbox means for an attach, the
token in a Secret, the error for a Sandbox that was not Ready in time. The
two sessions differ only in how they do I/O (kubernetes vs
kubernetes_asyncio); the verdicts (verdicts.py), the steps (steps.py) and
the names (names.py) are the same modules for both.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from . import kube, verdicts
from .durations import Duration, format_duration, parse_duration
from .exceptions import ArlError, InvalidArgumentError, SandboxTimeoutError
from .names import unique_name
from .steps import StepInput, build_steps

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "arl-client"
SANDBOX_LABEL = "arl.infra.io/sandbox"
POOL_LABEL = "arl.infra.io/pool"  # on a pool's pods and their token Secrets
# The process that created a Sandbox or Task: its sessions wait on one shared
# watch per kind selected by this label (shared_watch.for_process).
CLIENT_LABEL = "arl.infra.io/client"
SIDECAR_HTTP_PORT = 8080
SIDECAR_TOKEN_KEY = "token"


_client_id: tuple[int, str] | None = None


def client_id() -> str:
    """This process's value of CLIENT_LABEL: random, new after a fork."""
    global _client_id  # noqa: PLW0603 - one value per process
    pid = os.getpid()
    if _client_id is None or _client_id[0] != pid:
        _client_id = (pid, secrets.token_hex(6))
    return _client_id[1]


def client_selector() -> str:
    return f"{CLIENT_LABEL}={client_id()}"


def created_by_this_process(obj: Mapping[str, Any]) -> bool:
    return bool(((obj.get("metadata") or {}).get("labels") or {}).get(CLIENT_LABEL) == client_id())


def sidecar_token_secret_name(pod_name: str) -> str:
    """The Secret holding a pool pod's sidecar token: named like the pod."""
    return pod_name

# Time a task may spend before its first attempt starts (sandbox hand-over,
# controller queueing) on top of timeout * (retries + 1).
TASK_START_SLACK = 30.0
REJECTED_STATUSES = frozenset({400, 403, 422})

ConnectVia = Literal["auto", "pod-ip", "port-forward"]
CONNECT_VIA_ENV = "ARL_CONNECT_VIA"
_CONNECT_VIA: tuple[str, ...] = ("auto", "pod-ip", "port-forward")


@dataclass(frozen=True)
class SessionOptions:
    """The checked constructor arguments of a session."""

    pool_ref: str
    namespace: str
    keep_alive: bool
    timeout: float
    name: str
    generated_name: bool
    idle_timeout: float | None
    labels: dict[str, str] = field(default_factory=dict)
    task_ttl: float | None = None
    cleanup_timeout: float = 30.0
    context: str | None = None
    connect_via: ConnectVia = "auto"


def session_options(
    pool_ref: str,
    namespace: str,
    keep_alive: bool,
    timeout: Duration,
    *,
    name: str | None,
    idle_timeout: Duration | None,
    labels: Mapping[str, str] | None,
    task_ttl: Duration | None,
    cleanup_timeout: Duration,
    context: str | None,
    connect_via: ConnectVia | None,
) -> SessionOptions:
    """Checks the arguments; raises InvalidArgumentError (a ValueError) before anything is sent."""
    if not pool_ref or not isinstance(pool_ref, str):
        raise InvalidArgumentError("pool_ref", "pool_ref must name a WarmPool")
    if not namespace or not isinstance(namespace, str):
        raise InvalidArgumentError("namespace", "namespace must be a non-empty string")
    via = connect_via or os.environ.get(CONNECT_VIA_ENV) or "auto"
    if via not in _CONNECT_VIA:
        raise InvalidArgumentError("connect_via", f"connect_via must be one of {', '.join(_CONNECT_VIA)}, got {via!r}")
    wait = _positive("timeout", timeout)
    return SessionOptions(
        pool_ref=pool_ref,
        namespace=namespace,
        keep_alive=keep_alive,
        timeout=wait,
        name=name or unique_name(pool_ref),
        generated_name=name is None,
        idle_timeout=None if idle_timeout is None else _positive("idle_timeout", idle_timeout),
        labels=dict(labels or {}),
        task_ttl=None if task_ttl is None else _duration("task_ttl", task_ttl),
        cleanup_timeout=_duration("cleanup_timeout", cleanup_timeout),
        context=context,
        connect_via=via,  # type: ignore[arg-type]  # checked against _CONNECT_VIA above
    )


def _duration(argument: str, value: Duration) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise InvalidArgumentError(argument, f"invalid {argument}: {error}") from None


def _positive(argument: str, value: Duration) -> float:
    seconds = _duration(argument, value)
    if seconds <= 0:
        raise InvalidArgumentError(argument, f"invalid {argument}: must be > 0, got {value!r}")
    return seconds


@dataclass(frozen=True)
class TaskCall:
    """The checked arguments of ``execute``."""

    steps: list[dict[str, Any]]
    timeout: str
    retries: int
    budget: float


def task_call(
    steps: Sequence[StepInput], timeout: Duration, retries: int, wait_timeout: Duration | None
) -> TaskCall:
    """Checks execute's arguments (InvalidArgumentError before anything is sent)."""
    built = build_steps(steps)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise InvalidArgumentError("retries", f"retries must be an integer from 0 to 10, got {retries!r}")
    attempt = _positive("timeout", timeout)
    budget = (
        _positive("wait_timeout", wait_timeout)
        if wait_timeout is not None
        else attempt * (retries + 1) + TASK_START_SLACK
    )
    return TaskCall(steps=built, timeout=format_duration(timeout), retries=retries, budget=budget)


def sandbox_body(options: SessionOptions) -> dict[str, Any]:
    spec: dict[str, Any] = {"poolRef": options.pool_ref, "keepAlive": True}
    if options.idle_timeout is not None:
        spec["idleTimeoutSeconds"] = max(1, round(options.idle_timeout))
    return {
        "apiVersion": kube.API_VERSION,
        "kind": "Sandbox",
        "metadata": {
            "name": options.name,
            "namespace": options.namespace,
            "labels": {**options.labels, MANAGED_BY_LABEL: MANAGED_BY, CLIENT_LABEL: client_id()},
        },
        "spec": spec,
    }


def task_body(options: SessionOptions, sandbox: dict[str, Any], call: TaskCall) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "sandboxRef": options.name,
        "timeout": call.timeout,
        "retries": call.retries,
        "steps": call.steps,
    }
    if options.task_ttl is not None:
        spec["ttlSecondsAfterFinished"] = round(options.task_ttl)
    return {
        "apiVersion": kube.API_VERSION,
        "kind": "Task",
        "metadata": {
            "name": unique_name(options.name[:40]),
            "namespace": options.namespace,
            "labels": {
                **options.labels, MANAGED_BY_LABEL: MANAGED_BY, SANDBOX_LABEL: options.name, CLIENT_LABEL: client_id(),
            },
            "ownerReferences": [
                {
                    "apiVersion": kube.API_VERSION,
                    "kind": "Sandbox",
                    "name": options.name,
                    "uid": sandbox["metadata"]["uid"],
                }
            ],
        },
        "spec": spec,
    }


def task_selector(options: SessionOptions) -> str:
    """The session's Tasks (the session's own Task watch, on a caller's ApiClient)."""
    return f"{SANDBOX_LABEL}={options.name}"


def cleanup_selector(options: SessionOptions) -> str:
    """The Tasks the session deletes on close."""
    return f"{SANDBOX_LABEL}={options.name},{MANAGED_BY_LABEL}={MANAGED_BY}"


def deleted_at_once(response: Any) -> bool:
    """Whether a DELETE's response shows the object already removed (no
    finalizer holds it), so there is nothing to wait for."""
    if not isinstance(response, dict):
        return False
    if response.get("kind") == "Status":
        return bool(response.get("status") == "Success")
    meta = response.get("metadata") or {}
    return not meta.get("deletionTimestamp") and not meta.get("finalizers")


def check_attach(options: SessionOptions, existing: dict[str, Any]) -> None:
    """An existing Sandbox of the session's name must come from its pool."""
    pool = (existing.get("spec") or {}).get("poolRef")
    if pool != options.pool_ref:
        raise ArlError(
            f"sandbox {options.namespace}/{options.name} exists with poolRef {pool!r}, not {options.pool_ref!r}"
        )


def not_ready_error(options: SessionOptions, last: dict[str, Any]) -> SandboxTimeoutError:
    status = last.get("status") or {}
    reason = verdicts.condition(last, "Ready").get("reason", "")
    return SandboxTimeoutError(options.name, options.timeout, status.get("phase", ""), reason)


def pod_name(sandbox: dict[str, Any] | None) -> str:
    return str(((sandbox or {}).get("status") or {}).get("podName", "") or "")


def pod_ip(sandbox: dict[str, Any] | None) -> str:
    return str(((sandbox or {}).get("status") or {}).get("podIP", "") or "")


def pool_secrets_selector(pool: str) -> str:
    """A pool's pods' token Secrets (and its pods)."""
    return f"{POOL_LABEL}={pool}"


def token_from_secret_data(data: Mapping[str, Any] | None) -> str | None:
    """The sidecar token in a Secret's (base64) data, or None."""
    encoded = (data or {}).get(SIDECAR_TOKEN_KEY)
    return base64.b64decode(encoded).decode() if encoded else None


def fill_output_fields(task: dict[str, Any]) -> None:
    """The apiserver omits empty strings (``omitempty``): a task that printed
    nothing has no status.stderr. Fill them in so the manual's
    ``result['status']['stderr']`` works for every finished task."""
    status = task.setdefault("status", {})
    status.setdefault("stdout", "")
    status.setdefault("stderr", "")
    status.setdefault("exitCode", None)


def api_message(body: str | bytes | None, fallback: str) -> str:
    """The apiserver's own message in an error response (its Status body)."""
    try:
        parsed = json.loads(body or "")
    except (TypeError, ValueError):
        return fallback
    if isinstance(parsed, dict) and parsed.get("message"):
        return str(parsed["message"])
    return fallback
