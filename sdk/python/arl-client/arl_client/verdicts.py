"""What an observed Sandbox or Task means for the caller waiting on it.

Pure functions of (event type, object), handed to watch.wait_for: they
return the result, raise the matching ArlError, or return None to go on
waiting. The reasons are the operator's (operator/api/v1alpha1).
"""

from __future__ import annotations

from typing import Any

from .exceptions import (
    PoolNotFoundError,
    SandboxFailedError,
    TaskFailedError,
    TaskTimeoutError,
)

# The operator's constants these mirror are checked by
# tests/test_contract_constants.py against operator/api/v1alpha1.
# Sandbox (phases, the Ready condition and its reasons).
SANDBOX_CONDITION_READY = "Ready"
SANDBOX_READY = "Ready"
SANDBOX_FAILED = "Failed"
REASON_POOL_NOT_FOUND = "PoolNotFound"

# Task (status.reason).
TASK_SUCCEEDED = "Succeeded"
TASK_FAILED = "Failed"
REASON_TIMEOUT = "Timeout"
REASON_STEP_FAILED = "StepFailed"
# Failed tasks that never got to run (all) their steps because the sandbox
# failed or the operator was interrupted mid-attempt: the SDK raises for
# these. StepFailed and SidecarError (a step the sidecar could not run, such
# as a refused file path; the operator explains it in stderr) come back as
# the Failed Task, like a command's non-zero exit.
REASON_SANDBOX_NOT_FOUND = "SandboxNotFound"
REASON_SANDBOX_FAILED = "SandboxFailed"
REASON_OPERATOR_RESTARTED = "OperatorRestarted"
INFRASTRUCTURE_FAILURES = frozenset({REASON_SANDBOX_NOT_FOUND, REASON_SANDBOX_FAILED, REASON_OPERATOR_RESTARTED})


def condition(obj: dict[str, Any], condition_type: str) -> dict[str, Any]:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == condition_type:
            return dict(entry)
    return {}


def sandbox_ready(event_type: str, sandbox: dict[str, Any]) -> dict[str, Any] | None:
    """Returns the sandbox once Ready; raises if it failed, vanished or its
    pool does not exist."""
    name = sandbox["metadata"]["name"]
    if event_type == "DELETED":
        raise SandboxFailedError(name, "Deleted", "the sandbox was deleted while waiting for it")
    status = sandbox.get("status") or {}
    phase = status.get("phase", "")
    ready = condition(sandbox, SANDBOX_CONDITION_READY)
    if phase == SANDBOX_READY:
        return sandbox
    if phase == SANDBOX_FAILED:
        raise SandboxFailedError(name, ready.get("reason", "Failed"), ready.get("message", ""))
    if ready.get("reason") == REASON_POOL_NOT_FOUND:
        spec = sandbox.get("spec") or {}
        raise PoolNotFoundError(spec.get("poolRef", ""), sandbox["metadata"].get("namespace", ""))
    return None


def task_finished(event_type: str, task: dict[str, Any]) -> dict[str, Any] | None:
    """Returns the task once Succeeded, or Failed because of its steps.

    Raises TaskTimeoutError when the operator timed it out, TaskFailedError
    when it failed because its sandbox failed or the operator was
    interrupted, or when it was deleted before it finished.
    """
    name = task["metadata"]["name"]
    status = task.get("status") or {}
    state = status.get("state", "")
    reason = status.get("reason", "")
    message = status.get("message", "")
    if event_type == "DELETED" and state not in (TASK_SUCCEEDED, TASK_FAILED):
        raise TaskFailedError(name, "Deleted", "the task was deleted before it finished", task)
    if state == TASK_SUCCEEDED:
        return task
    if state == TASK_FAILED:
        if reason == REASON_TIMEOUT:
            raise TaskTimeoutError(name, message or "the task exceeded spec.timeout", task)
        if reason in INFRASTRUCTURE_FAILURES:
            raise TaskFailedError(name, reason, message, task)
        return task
    return None


def gone(event_type: str, obj: dict[str, Any]) -> bool | None:
    """True once the object is deleted."""
    return True if event_type == "DELETED" else None
