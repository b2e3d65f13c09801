"""watch.wait_for against a scripted fake apiserver (pure logic: resume points,
selectors, 410 handling, deadlines)."""

import json
import time

import pytest

from arl_client import verdicts
from arl_client.watch import DeadlineExceeded, wait_for


class FakeResponse:
    def __init__(self, events, delay=0.0):
        self.lines = [json.dumps(e).encode() + b"\n" for e in events]
        self.delay = delay
        self.closed = False

    def stream(self, amt=None, decode_content=False):
        for line in self.lines:
            if self.delay:
                time.sleep(self.delay)
            # split lines across chunks to exercise the line reassembly
            yield line[:5]
            yield line[5:]

    def close(self):
        self.closed = True

    def release_conn(self):
        pass


class FakeApi:
    def __init__(self, responses, objects=None):
        self.responses = list(responses)
        self.objects = objects or {}
        self.watch_calls = []
        self.get_calls = []

    def list_namespaced_custom_object(self, group, version, namespace, plural, **kwargs):
        self.watch_calls.append(kwargs)
        if not self.responses:
            time.sleep(kwargs["timeout_seconds"] if kwargs["timeout_seconds"] < 2 else 0.05)
            return FakeResponse([])
        return self.responses.pop(0)

    def get_namespaced_custom_object(self, group, version, namespace, plural, name):
        from kubernetes.client.rest import ApiException

        self.get_calls.append(name)
        if name not in self.objects:
            raise ApiException(status=404)
        return self.objects[name]


def obj(rv, phase="", name="sb"):
    return {
        "metadata": {"name": name, "resourceVersion": str(rv)},
        "spec": {"poolRef": "p"},
        "status": {"phase": phase},
    }


def test_returns_at_once_when_the_initial_copy_decides():
    api = FakeApi([])
    ready = obj(5, "Ready")
    assert wait_for(api, "ns", "sandboxes", ready, verdicts.sandbox_ready, time.monotonic() + 5) is ready
    assert api.watch_calls == []


def test_watches_by_name_from_the_initial_resource_version():
    api = FakeApi([FakeResponse([
        {"type": "MODIFIED", "object": obj(6, "Bound")},
        {"type": "MODIFIED", "object": obj(7, "Ready")},
    ])])
    result = wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 5)
    assert result["metadata"]["resourceVersion"] == "7"
    call = api.watch_calls[0]
    assert call["watch"] is True
    assert call["field_selector"] == "metadata.name=sb"
    assert call["resource_version"] == "5"
    assert call["allow_watch_bookmarks"] is True


def test_resumes_after_the_watch_ends_from_the_last_version_seen():
    api = FakeApi([
        FakeResponse([{"type": "MODIFIED", "object": obj(6, "Bound")},
                      {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}]),
        FakeResponse([{"type": "MODIFIED", "object": obj(10, "Ready")}]),
    ])
    wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 5)
    assert [c["resource_version"] for c in api.watch_calls] == ["5", "9"]


def test_expired_watch_rereads_the_object():
    api = FakeApi(
        [FakeResponse([{"type": "ERROR", "object": {"code": 410, "message": "too old"}}])],
        objects={"sb": obj(20, "Ready")},
    )
    result = wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 5)
    assert result["metadata"]["resourceVersion"] == "20"
    assert api.get_calls == ["sb"]


def test_expired_watch_of_a_deleted_object_reports_deletion():
    from arl_client.exceptions import SandboxFailedError

    api = FakeApi([FakeResponse([{"type": "ERROR", "object": {"code": 410, "message": "too old"}}])])
    with pytest.raises(SandboxFailedError, match="Deleted"):
        wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 5)


def test_other_watch_errors_raise_api_exceptions():
    from kubernetes.client.rest import ApiException

    error = {"code": 500, "reason": "InternalError", "message": "x"}
    api = FakeApi([FakeResponse([{"type": "ERROR", "object": error}])])
    with pytest.raises(ApiException):
        wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 5)


def test_deadline_raises_with_the_last_copy():
    api = FakeApi([FakeResponse([{"type": "MODIFIED", "object": obj(6, "Bound")}])])
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, started + 0.3)
    assert caught.value.last["status"]["phase"] == "Bound"
    assert time.monotonic() - started < 2.5


def test_watch_timeout_never_exceeds_the_remaining_time_by_more_than_a_second():
    api = FakeApi([FakeResponse([{"type": "MODIFIED", "object": obj(6, "Ready")}])])
    wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 2.5)
    assert api.watch_calls[0]["timeout_seconds"] == 3


def test_response_is_closed_when_the_wait_ends_early():
    response = FakeResponse([{"type": "MODIFIED", "object": obj(6, "Ready")},
                             {"type": "MODIFIED", "object": obj(7, "Ready")}])
    wait_for(FakeApi([response]), "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 5)
    assert response.closed


def test_a_watch_stopped_before_its_end_has_its_connection_replaced(monkeypatch):
    replaced = []
    monkeypatch.setattr("arl_client.watch.replace_connection", replaced.append)
    events = [{"type": "MODIFIED", "object": obj(6, "Ready")}, {"type": "MODIFIED", "object": obj(7)}]
    api = FakeApi([FakeResponse(events)])
    api.api_client = object()
    wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 5)
    assert replaced == [api.api_client]


def test_a_watch_that_ran_to_its_end_keeps_its_connection(monkeypatch):
    replaced = []
    monkeypatch.setattr("arl_client.watch.replace_connection", replaced.append)
    api = FakeApi([FakeResponse([{"type": "MODIFIED", "object": obj(6, "Bound")}])])
    api.api_client = object()
    with pytest.raises(DeadlineExceeded):
        wait_for(api, "ns", "sandboxes", obj(5), verdicts.sandbox_ready, time.monotonic() + 0.5)
    assert replaced == []
