"""SharedWatch against a scripted fake apiserver (pure logic: registration
before creation, relists, restarts, stop)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes.client.exceptions import ApiException

from arl_client import _plan, shared_watch, verdicts
from arl_client.shared_watch import SharedWatch
from arl_client.watch import DeadlineExceeded


class FakeSocket:
    def __init__(self, closed: threading.Event) -> None:
        self.closed = closed

    def shutdown(self, how):
        self.closed.set()


class FakeConnection:
    def __init__(self, closed):
        self.sock = FakeSocket(closed)


class FakeResponse:
    """Yields the scripted events; with hold=True then blocks until shut down."""

    def __init__(self, events, hold=False):
        self.lines = [json.dumps(e).encode() + b"\n" for e in events]
        self.hold = hold
        self.shut = threading.Event()
        self.connection = FakeConnection(self.shut)

    def stream(self, amt=None, decode_content=False):
        yield from self.lines
        if self.hold:
            self.shut.wait(10)

    def close(self):
        self.shut.set()

    def release_conn(self):
        pass


class FakeApi:
    def __init__(self, watches, listed=()):
        self.watches = list(watches)
        self.listed = list(listed)
        self.calls = []
        self.more = threading.Event()

    def list_namespaced_custom_object(self, group, version, namespace, plural, **kwargs):
        self.calls.append(kwargs)
        if not kwargs.get("watch"):
            return {"items": self.listed, "metadata": {"resourceVersion": "100"}}
        if self.watches:
            return self.watches.pop(0)
        return FakeResponse([], hold=True)


def until(condition, timeout=5.0):
    """Polls ``condition`` until it holds or ``timeout`` passes (the asserts after it tell which)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def task(name, rv, state="", reason=""):
    return {"metadata": {"name": name, "resourceVersion": str(rv)}, "status": {"state": state, "reason": reason}}


def event(kind, obj):
    return {"type": kind, "object": obj}


@pytest.fixture
def started():
    watchers = []

    def start(api):
        watcher = SharedWatch(api, "ns", "tasks", "arl.infra.io/sandbox=sb")
        watcher.expect("t1")
        watcher.start()
        watchers.append(watcher)
        return watcher

    yield start
    for watcher in watchers:
        watcher.stop()


def test_lists_then_watches_from_the_list_version_with_the_selector(started):
    api = FakeApi([FakeResponse([event("MODIFIED", task("t1", 101, "Succeeded", "Succeeded"))], hold=True)])
    watcher = started(api)
    result = watcher.wait(task("t1", 100, "Pending"), verdicts.task_finished, time.monotonic() + 5)
    assert result["status"]["state"] == "Succeeded"
    assert api.calls[0].get("watch") is None
    assert api.calls[1]["watch"] is True
    assert api.calls[1]["resource_version"] == "100"
    assert api.calls[1]["label_selector"] == "arl.infra.io/sandbox=sb"


def test_events_before_the_wait_are_kept_for_expected_names_only(started):
    api = FakeApi([FakeResponse([
        event("MODIFIED", task("other", 101, "Succeeded", "Succeeded")),
        event("MODIFIED", task("t1", 102, "Failed", "StepFailed")),
    ], hold=True)])
    watcher = started(api)
    until(lambda: "t1" in watcher._latest)
    assert "other" not in watcher._latest
    result = watcher.wait(task("t1", 100, "Pending"), verdicts.task_finished, time.monotonic() + 5)
    assert result["status"]["reason"] == "StepFailed"


def test_restarts_from_the_last_version_and_relists_after_gone(started):
    api = FakeApi(
        [
            FakeResponse([event("MODIFIED", task("t1", 105, "Running"))]),
            FakeResponse([event("ERROR", {"code": 410, "message": "too old"})]),
        ],
        listed=[task("t1", 120, "Succeeded", "Succeeded")],
    )
    watcher = started(api)
    result = watcher.wait(task("t1", 100, "Pending"), verdicts.task_finished, time.monotonic() + 5)
    assert result["metadata"]["resourceVersion"] == "120"
    watches = [c["resource_version"] for c in api.calls if c.get("watch")]
    assert watches[:2] == ["100", "105"]


def test_deadline_raises_with_the_last_copy(started):
    api = FakeApi([FakeResponse([event("MODIFIED", task("t1", 101, "Running"))], hold=True)])
    watcher = started(api)
    with pytest.raises(DeadlineExceeded) as caught:
        watcher.wait(task("t1", 100, "Pending"), verdicts.task_finished, time.monotonic() + 0.3)
    assert caught.value.last["status"]["state"] == "Running"


def test_timeout_reason_raises_through_the_watcher(started):
    api = FakeApi([FakeResponse([event("MODIFIED", task("t1", 101, "Failed", "Timeout"))], hold=True)])
    watcher = started(api)
    with pytest.raises(TimeoutError):
        watcher.wait(task("t1", 100, "Pending"), verdicts.task_finished, time.monotonic() + 5)


def test_stop_unblocks_a_waiting_watch_quickly():
    blocking = FakeResponse([], hold=True)
    api = FakeApi([blocking])
    watcher = SharedWatch(api, "ns", "tasks", "arl.infra.io/sandbox=sb")
    watcher.start()
    time.sleep(0.1)
    started = time.monotonic()
    watcher.stop()
    assert time.monotonic() - started < 1.5
    assert blocking.shut.is_set()


def test_forget_drops_kept_events(started):
    api = FakeApi([FakeResponse([event("MODIFIED", task("t1", 101, "Running"))], hold=True)])
    watcher = started(api)
    until(lambda: "t1" in watcher._latest)
    watcher.forget("t1")
    assert "t1" not in watcher._latest and "t1" not in watcher._expected


class FailingListApi(FakeApi):
    def __init__(self, watches, status=403):
        super().__init__(watches)
        self.status = status

    def list_namespaced_custom_object(self, group, version, namespace, plural, **kwargs):
        self.calls.append(kwargs)
        raise ApiException(status=self.status, reason="refused")


def test_a_failed_first_list_reaches_the_waiter_at_once():
    watcher = SharedWatch(FailingListApi([]), "ns", "tasks", "arl.infra.io/client=x")
    watcher.expect("t1")
    watcher.start()
    started = time.monotonic()
    with pytest.raises(ApiException) as caught:
        watcher.wait(task("t1", 100, "Pending"), verdicts.task_finished, time.monotonic() + 5)
    assert caught.value.status == 403
    assert time.monotonic() - started < 2
    assert watcher.failed


def test_the_process_shares_one_watch_per_kind_and_replaces_a_failed_one(monkeypatch):
    apis = []

    def custom_objects(_client):
        api = FailingListApi([], status=500) if not apis else FakeApi([], listed=[])
        apis.append(api)
        return api

    monkeypatch.setattr(shared_watch.client, "CustomObjectsApi", custom_objects)
    api_client = object()
    try:
        first = shared_watch.for_process(api_client, "ns", "sandboxes")
        until(lambda: first.failed)
        second = shared_watch.for_process(api_client, "ns", "sandboxes")
        assert second is not first
        assert shared_watch.for_process(api_client, "ns", "sandboxes") is second
        assert shared_watch.for_process(api_client, "other", "sandboxes") is not second
        until(lambda: apis[1].calls)
        assert apis[1].calls[0]["label_selector"] == f"{_plan.CLIENT_LABEL}={_plan.client_id()}"
    finally:
        shared_watch.stop_all()


def test_the_process_label_marks_what_it_creates():
    options = _plan.session_options(
        "python-pool", "ns", False, 60, name=None, idle_timeout=None, labels=None, task_ttl=None,
        cleanup_timeout=30, context=None, connect_via=None,
    )
    sandbox = _plan.sandbox_body(options)
    assert sandbox["metadata"]["labels"][_plan.CLIENT_LABEL] == _plan.client_id()
    assert _plan.created_by_this_process(sandbox)
    assert not _plan.created_by_this_process({"metadata": {"labels": {_plan.CLIENT_LABEL: "another"}}})
    ready = {**sandbox, "metadata": {**sandbox["metadata"], "uid": "u"}}
    call = _plan.task_call([{"name": "a", "type": "Command", "command": ["true"]}], "30s", 0, None)
    task_labels = _plan.task_body(options, ready, call)["metadata"]["labels"]
    assert task_labels[_plan.CLIENT_LABEL] == _plan.client_id()


def test_a_refused_watch_is_remembered_not_retried(monkeypatch):
    apis = []

    def custom_objects(_client):
        apis.append(FailingListApi([], status=403))
        return apis[-1]

    monkeypatch.setattr(shared_watch.client, "CustomObjectsApi", custom_objects)
    api_client = object()
    try:
        first = shared_watch.for_process(api_client, "ns", "tasks")
        until(lambda: first.failed)
        assert shared_watch.for_process(api_client, "ns", "tasks") is first
        assert len(apis) == 1
    finally:
        shared_watch.stop_all()


class FakeCore:
    """CoreV1Api's secret list, typed as the real client returns it."""

    def __init__(self, watches):
        self.watches = list(watches)
        self.api_client = FakeApiClient()

    def list_namespaced_secret(self, namespace, **kwargs):
        if not kwargs.get("watch"):
            return {"items": [secret("pod-a", "YQ==")], "metadata": {"resourceVersion": "7"}}
        return self.watches.pop(0) if self.watches else FakeResponse([], hold=True)


class FakeApiClient:
    def sanitize_for_serialization(self, obj):
        return obj


def secret(name, token):
    return {"metadata": {"name": name, "resourceVersion": "7"}, "data": {"token": token}}


def test_keep_all_holds_the_latest_copy_of_every_object(started):
    core = FakeCore([FakeResponse([
        event("ADDED", secret("pod-b", "Yg==")),
        event("DELETED", secret("pod-a", "YQ==")),
    ], hold=True)])
    watcher = SharedWatch(core, "ns", shared_watch.SECRETS, "arl.infra.io/pool=p", keep_all=True)
    watcher.start()
    try:
        until(lambda: watcher.get("pod-b") is not None)
        assert _plan.token_from_secret_data(watcher.get("pod-b")["data"]) == "b"
        until(lambda: watcher.get("pod-a") is None)
        assert watcher.get("pod-a") is None
    finally:
        watcher.stop()
