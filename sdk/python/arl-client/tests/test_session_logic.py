"""SandboxSession's bookkeeping against a scripted fake apiserver (pure logic:
what is sent, and that what was created is deleted on every way out). The
behaviour against a real apiserver is in tests/integration."""

from __future__ import annotations

import pytest
from kubernetes.client.rest import ApiException

from arl_client import _plan
from arl_client import session as session_module
from arl_client.exceptions import PoolNotFoundError, SessionClosedError, TaskRejectedError
from arl_client.session import SandboxSession


class FakeCustomObjects:
    def __init__(self, pools=("python-pool",), on_wait=None, reject_tasks=None):
        self.pools = set(pools)
        self.on_wait = on_wait
        self.reject_tasks = reject_tasks
        self.created = []
        self.deleted = []
        self.objects = {}

    def get_namespaced_custom_object(self, group, version, namespace, plural, name):
        if plural == "warmpools":
            if name in self.pools:
                return {"metadata": {"name": name}}
            raise ApiException(status=404)
        if (plural, name) in self.objects:
            return self.objects[(plural, name)]
        raise ApiException(status=404)

    def create_namespaced_custom_object(self, group, version, namespace, plural, body):
        if plural == "tasks" and self.reject_tasks:
            error = ApiException(status=422)
            error.body = f'{{"kind":"Status","message":"{self.reject_tasks}"}}'
            raise error
        self.created.append((plural, body))
        obj = {**body, "metadata": {**body["metadata"], "uid": "uid-1", "resourceVersion": "1"}}
        if plural == "sandboxes":
            obj["status"] = {"phase": "Ready", "podName": "p", "podIP": "10.244.0.9"}
        self.objects[(plural, body["metadata"]["name"])] = obj
        return obj

    def list_namespaced_custom_object(self, group, version, namespace, plural, **kwargs):
        if plural == "tasks" and not kwargs.get("watch"):
            return {"items": [], "metadata": {"resourceVersion": "1"}}
        if plural == "tasks":
            raise ApiException(status=500, reason="no task watch in this fake")
        if self.on_wait:
            self.on_wait()
        raise AssertionError("unexpected sandbox watch")

    def delete_collection_namespaced_custom_object(self, group, version, namespace, plural, label_selector):
        self.deleted.append((plural, label_selector))

    def delete_namespaced_custom_object(self, group, version, namespace, plural, name, **kwargs):
        self.deleted.append((plural, name))
        self.objects.pop((plural, name), None)


@pytest.fixture
def fake(monkeypatch):
    api = FakeCustomObjects()
    monkeypatch.setattr(session_module.client, "CustomObjectsApi", lambda _client: api)
    return api


def test_sandbox_body_keeps_alive_while_the_session_lives(fake):
    with SandboxSession("python-pool", api_client=object()) as session:
        kind, body = fake.created[0]
        assert kind == "sandboxes"
        assert body["spec"] == {"poolRef": "python-pool", "keepAlive": True, "idleTimeoutSeconds": 3600}
        assert body["metadata"]["name"] == session.name
        assert body["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "arl-client"
    assert ("sandboxes", session.name) in fake.deleted


def test_task_body_and_validation_before_sending(fake):
    with SandboxSession("python-pool", api_client=object()) as session:
        with pytest.raises(ValueError, match="working_dir"):
            session.execute([{"name": "a", "type": "Command", "command": ["ls"], "working_dir": "/"}])
        assert [kind for kind, _ in fake.created] == ["sandboxes"]
        call = _plan.task_call([{"name": "a", "type": "Command", "command": ["ls"]}], "30s", 0, None)
        body = _plan.task_body(session.options, session.sandbox, call)
    assert body["spec"] == {"sandboxRef": session.name, "timeout": "30s", "retries": 0,
                            "steps": [{"name": "a", "type": "Command", "command": ["ls"]}]}
    assert body["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert body["metadata"]["labels"]["arl.infra.io/sandbox"] == session.name


def test_rejected_task_carries_the_apiserver_message(fake):
    fake.reject_tasks = (
        'Task.arl.infra.io \\"t\\" is invalid: spec.steps[0].path: Invalid value: \\"string\\": '
        "must stay inside /workspace, e.g. /workspace/app.py"
    )
    with SandboxSession("python-pool", api_client=object()) as session:
        with pytest.raises(TaskRejectedError, match="is invalid: spec.steps.0..path: .*must stay inside /workspace"):
            session.execute([{"name": "a", "type": "FilePatch", "path": "/etc/x"}])


def test_missing_pool_creates_nothing(fake):
    with pytest.raises(PoolNotFoundError):
        with SandboxSession("other-pool", api_client=object()):
            pass
    assert fake.created == []


def test_interrupt_while_waiting_deletes_the_sandbox(fake, monkeypatch):
    def interrupt():
        raise KeyboardInterrupt

    fake.on_wait = interrupt
    def create_pending(self, group, version, namespace, plural, body):
        self.created.append((plural, body))
        return {**body, "metadata": {**body["metadata"], "resourceVersion": "1"}, "status": {"phase": "Pending"}}

    monkeypatch.setattr(FakeCustomObjects, "create_namespaced_custom_object", create_pending)
    session = SandboxSession("python-pool", api_client=object())
    with pytest.raises(KeyboardInterrupt):
        with session:
            pass
    assert ("sandboxes", session.name) in fake.deleted


def test_keep_alive_deletes_nothing(fake):
    with SandboxSession("python-pool", keep_alive=True, api_client=object()):
        pass
    assert fake.deleted == []


def test_use_outside_the_with_block_raises(fake):
    session = SandboxSession("python-pool", api_client=object())
    with pytest.raises(SessionClosedError):
        session.execute([{"name": "a", "type": "Command", "command": ["ls"]}])
    with session:
        pass
    with pytest.raises(SessionClosedError):
        session.execute([{"name": "a", "type": "Command", "command": ["ls"]}])


def test_deleted_at_once_only_when_nothing_holds_the_object() -> None:
    from arl_client import _plan

    assert _plan.deleted_at_once({"metadata": {"name": "s", "uid": "u"}})
    assert _plan.deleted_at_once({"kind": "Status", "status": "Success"})
    assert not _plan.deleted_at_once({"metadata": {"name": "s", "deletionTimestamp": "2026-12-03T00:00:00Z"}})
    assert not _plan.deleted_at_once({"metadata": {"name": "s", "finalizers": ["x"]}})
    assert not _plan.deleted_at_once({"kind": "Status", "status": "Failure"})
    assert not _plan.deleted_at_once(None)
