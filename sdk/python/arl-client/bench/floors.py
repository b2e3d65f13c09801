"""The floor under the SDK's numbers: the same API calls made with a bare Kubernetes client.

The SDK's open -> Ready and first Task are bounded below by the API server
and the operator: a Sandbox create, the operator's bind and status write,
and the watch event that shows Ready (for a Task: its create, the
operator's dispatch to the sidecar, the status write and the watch event).
These helpers time exactly that with the official client and one watch, no
SDK code, so the bench can say how much of each step is the SDK's.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from kubernetes import client, watch

GROUP, VERSION = "arl.infra.io", "v1alpha1"


def _ready(obj: dict[str, Any]) -> bool:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def _finished(obj: dict[str, Any]) -> bool:
    return (obj.get("status") or {}).get("state") in ("Succeeded", "Failed")


def _create_and_watch(
    custom: client.CustomObjectsApi, namespace: str, plural: str, body: dict[str, Any], done: Any, timeout: float
) -> float:
    """Creates body and returns the ms until a watch (from the create's
    resourceVersion) shows done(obj)."""
    name = body["metadata"]["name"]
    started = time.perf_counter()
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)
    if done(created):
        return (time.perf_counter() - started) * 1000
    w = watch.Watch()
    try:
        for event in w.stream(
            custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            plural,
            field_selector=f"metadata.name={name}",
            resource_version=created["metadata"]["resourceVersion"],
            timeout_seconds=int(timeout),
        ):
            if done(event["object"]):
                return (time.perf_counter() - started) * 1000
    finally:
        w.stop()
    raise SystemExit(f"{plural}/{name} not done within {timeout:g} s")


def sandbox_ready_ms(custom: client.CustomObjectsApi, namespace: str, pool: str, timeout: float = 30.0) -> float:
    """Bare Sandbox create -> Ready (then deletes it)."""
    name = f"floor-{uuid.uuid4().hex[:8]}"
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Sandbox",
        "metadata": {"name": name},
        "spec": {"poolRef": pool},
    }
    try:
        return _create_and_watch(custom, namespace, "sandboxes", body, _ready, timeout)
    finally:
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "sandboxes", name)


def task_finished_ms(custom: client.CustomObjectsApi, namespace: str, sandbox: str, timeout: float = 30.0) -> float:
    """Bare Task (one `true` step) create -> Succeeded in sandbox (then deletes it)."""
    name = f"floor-{uuid.uuid4().hex[:8]}"
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Task",
        "metadata": {"name": name},
        "spec": {"sandboxRef": sandbox, "steps": [{"name": "true", "type": "Command", "command": ["true"]}]},
    }
    try:
        return _create_and_watch(custom, namespace, "tasks", body, _finished, timeout)
    finally:
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "tasks", name)
