import pytest

from arl_client import verdicts
from arl_client.exceptions import (
    PoolNotFoundError,
    SandboxFailedError,
    TaskFailedError,
    TaskTimeoutError,
)


def sandbox(phase="", reason="", message=""):
    obj = {"metadata": {"name": "sb", "namespace": "ns"}, "spec": {"poolRef": "pool"}, "status": {}}
    if phase:
        obj["status"]["phase"] = phase
    if reason:
        obj["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": reason, "message": message}]
    return obj


def task(state="", reason="", message=""):
    return {"metadata": {"name": "t"}, "status": {"state": state, "reason": reason, "message": message}}


@pytest.mark.parametrize(
    "obj", [sandbox(), sandbox("Pending", "WaitingForPool"), sandbox("Bound", "PodAllocated")]
)
def test_sandbox_not_ready_yet_keeps_waiting(obj):
    assert verdicts.sandbox_ready("MODIFIED", obj) is None


def test_sandbox_ready_is_returned():
    obj = sandbox("Ready", "SidecarReady")
    assert verdicts.sandbox_ready("MODIFIED", obj) is obj


def test_sandbox_failed_raises_with_reason():
    with pytest.raises(SandboxFailedError, match=r"sandbox sb failed \(PodLost\): pod gone"):
        verdicts.sandbox_ready("MODIFIED", sandbox("Failed", "PodLost", "pod gone"))


def test_sandbox_pool_not_found_raises():
    with pytest.raises(PoolNotFoundError, match="WarmPool ns/pool not found") as caught:
        verdicts.sandbox_ready("MODIFIED", sandbox("Pending", "PoolNotFound"))
    assert isinstance(caught.value, RuntimeError)


def test_sandbox_deleted_while_waiting_raises():
    with pytest.raises(SandboxFailedError, match="Deleted"):
        verdicts.sandbox_ready("DELETED", sandbox("Pending"))


@pytest.mark.parametrize(
    "obj", [task(), task("Pending", "SandboxNotReady"), task("Running", "Running"), task("Running", "Retrying")]
)
def test_unfinished_task_keeps_waiting(obj):
    assert verdicts.task_finished("MODIFIED", obj) is None


@pytest.mark.parametrize("obj", [
    task("Succeeded", "Succeeded"), task("Failed", "StepFailed"), task("Failed", "SidecarError"), task("Failed", ""),
])
def test_finished_task_is_returned(obj):
    assert verdicts.task_finished("MODIFIED", obj) is obj


def test_task_timeout_raises_timeout_error():
    with pytest.raises(TimeoutError, match="attempt 1 exceeded 1s") as caught:
        verdicts.task_finished("MODIFIED", task("Failed", "Timeout", "attempt 1 exceeded 1s"))
    assert isinstance(caught.value, TaskTimeoutError)
    assert caught.value.task["status"]["reason"] == "Timeout"


@pytest.mark.parametrize("reason", ["SandboxNotFound", "SandboxFailed", "OperatorRestarted"])
def test_infrastructure_failure_raises_runtime_error(reason):
    with pytest.raises(TaskFailedError, match=reason) as caught:
        verdicts.task_finished("MODIFIED", task("Failed", reason, "boom"))
    assert isinstance(caught.value, RuntimeError)


def test_task_deleted_before_finishing_raises():
    with pytest.raises(TaskFailedError, match="Deleted"):
        verdicts.task_finished("DELETED", task("Running"))


def test_finished_task_deleted_event_still_returns_it():
    obj = task("Succeeded", "Succeeded")
    assert verdicts.task_finished("DELETED", obj) is obj


def test_timeout_errors_are_caught_by_the_manuals_first_handler():
    try:
        raise TaskTimeoutError("t", "x")
    except TimeoutError:
        caught = "timeout"
    except RuntimeError:
        caught = "runtime"
    assert caught == "timeout"
