"""One long-lived watch over a session's Tasks, shared by its ``execute`` calls.

A watch per Task would open a fresh apiserver connection (TLS handshake
included) for every ``execute``, because a watch stream cannot be handed back
to the connection pool once read from. Instead the session starts one watch
(label selector ``arl.infra.io/sandbox=<sandbox>``) on a daemon thread at its
first ``execute``, from the resourceVersion of a list, and each ``execute``
registers the name of its Task *before* creating it, so no event can be
missed, then waits on a condition variable for the Task's decisive event.

The watch restarts by itself where it stopped (server-side timeout,
connection error) and relists after "410 Gone".
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .kube import GROUP, VERSION
from .watch import INITIAL, RELISTED, DeadlineExceeded, Decide, WatchExpired, resource_version, stream_events

logger = logging.getLogger(__name__)

T = TypeVar("T")

_WATCH_SECONDS = 300.0
_MAX_BACKOFF = 2.0


class TaskWatcher:
    """Streams the events of the Tasks matching ``label_selector`` to waiters."""

    def __init__(self, api: client.CustomObjectsApi, namespace: str, plural: str, label_selector: str) -> None:
        self._api = api
        self._namespace = namespace
        self._plural = plural
        self._selector = label_selector
        self._condition = threading.Condition()
        self._expected: set[str] = set()
        self._latest: dict[str, tuple[str, dict[str, Any]]] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None
        self._version = ""

    # -- waiter side -------------------------------------------------------

    def expect(self, name: str) -> None:
        """Keeps the events of ``name`` from now on; call before creating it."""
        with self._condition:
            self._expected.add(name)

    def forget(self, name: str) -> None:
        with self._condition:
            self._expected.discard(name)
            self._latest.pop(name, None)

    def wait(self, current: dict[str, Any], decide: Decide[T], deadline: float) -> T:
        """Like watch.wait_for, fed by the shared watch: returns what decide
        returns, raises what it raises, or DeadlineExceeded."""
        name = current["metadata"]["name"]
        verdict = decide(INITIAL, current)
        if verdict is not None:
            return verdict
        last = current
        with self._condition:
            while True:
                entry = self._latest.pop(name, None)
                if entry is not None:
                    event_type, last = entry
                    verdict = decide(event_type, last)
                    if verdict is not None:
                        return verdict
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeadlineExceeded(last)
                self._condition.wait(remaining)

    # -- watch side --------------------------------------------------------

    def start(self) -> None:
        """Lists the Tasks (for a resourceVersion) and starts watching from there."""
        if self._thread is not None:
            return
        self._version = self._relist()
        self._thread = threading.Thread(target=self._run, name=f"arl-task-watch-{self._selector}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        response = self._response
        if response is not None:
            _shutdown(response)
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            try:
                self._watch_once()
                backoff = 0.05
            except WatchExpired:
                self._version = self._relist_or_keep()
            except Exception as error:  # noqa: BLE001 - any failure: back off and watch again
                if self._stopping.is_set():
                    return
                logger.debug("task watch %s failed (%s); retrying in %.2fs", self._selector, error, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    def _watch_once(self) -> None:
        events = stream_events(
            self._api,
            self._namespace,
            self._plural,
            from_version=self._version,
            timeout=_WATCH_SECONDS,
            label_selector=self._selector,
            on_response=self._remember_response,
        )
        try:
            for event_type, obj in events:
                self._version = resource_version(obj) or self._version
                if event_type != "BOOKMARK":
                    self._publish(event_type, obj)
                if self._stopping.is_set():
                    return
        finally:
            events.close()
            self._response = None

    def _remember_response(self, response: Any) -> None:
        self._response = response
        if self._stopping.is_set():
            _shutdown(response)

    def _publish(self, event_type: str, obj: dict[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name", "")
        with self._condition:
            if name in self._expected:
                self._latest[name] = (event_type, obj)
                self._condition.notify_all()

    def _relist(self) -> str:
        listed: Any = self._api.list_namespaced_custom_object(
            GROUP, VERSION, self._namespace, self._plural, label_selector=self._selector
        )
        for item in listed.get("items") or []:
            self._publish(RELISTED, item)
        return str((listed.get("metadata") or {}).get("resourceVersion") or "")

    def _relist_or_keep(self) -> str:
        try:
            return self._relist()
        except ApiException as error:
            logger.debug("relisting tasks %s failed: %s", self._selector, error)
            return ""


def _shutdown(response: Any) -> None:
    """Unblocks a thread reading the response (as kubernetes.watch.Watch.stop does)."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
