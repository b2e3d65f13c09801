"""Long-lived watches that many waiters share: one per kind for a process's sessions.

A wait that opens its own watch pays an API server request (and, since a
watch stream cannot be handed back to the connection pool once read from, a
new connection for the next request) every time. ``SharedWatch`` keeps one
watch (a label selector) on a daemon thread instead: a waiter registers the
name it expects *before* creating the object, so no event can be missed, then
waits on a condition variable for the object's decisive event.

``for_process`` gives the process's watch of a kind in a namespace, selected
by the process's client label (``_plan.CLIENT_LABEL``): a session on the
shared ApiClient waits for its Sandbox to be Ready and for its Tasks to end
on these watches, with no watch request of its own. The watch lists first
(for a resourceVersion), then watches from there; it restarts by itself
where it stopped (server-side timeout, connection error) and relists after
"410 Gone". If its first list fails (no right to list, say), waiters get
that error and the next ``for_process`` starts a new watch.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from . import _plan, _threads
from .watch import (
    INITIAL,
    RELISTED,
    DeadlineExceeded,
    Decide,
    Lister,
    WatchExpired,
    custom_objects_lister,
    resource_version,
    stream_events,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

_WATCH_SECONDS = 300.0
_MAX_BACKOFF = 2.0


class SharedWatch:
    """Streams the events of the objects matching ``label_selector`` to waiters."""

    def __init__(
        self, api: Any, namespace: str, plural: str, label_selector: str, *, keep_all: bool = False
    ) -> None:
        """``api`` is a CustomObjectsApi, or a CoreV1Api for ``plural`` "secrets".
        With ``keep_all`` the watch also keeps the latest copy of every object
        it sees, for ``get``."""
        self._api = api
        self._list: Lister = _lister(api, namespace, plural)
        self._namespace = namespace
        self._plural = plural
        self._selector = label_selector
        self._keep_all = keep_all
        self._condition = threading.Condition()
        self._expected: set[str] = set()
        self._latest: dict[str, tuple[str, dict[str, Any]]] = {}
        self._objects: dict[str, dict[str, Any]] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None
        self._version = ""
        self._error: BaseException | None = None  # the first list failed

    # -- waiter side -------------------------------------------------------

    def expect(self, name: str) -> None:
        """Keeps the events of ``name`` from now on; call before creating it."""
        with self._condition:
            self._expected.add(name)

    def forget(self, name: str) -> None:
        with self._condition:
            self._expected.discard(name)
            self._latest.pop(name, None)

    def get(self, name: str) -> dict[str, Any] | None:
        """The latest copy of ``name`` seen (only with keep_all; None if not seen)."""
        with self._condition:
            return self._objects.get(name)

    @property
    def failed(self) -> bool:
        """The watch could not start (its first list failed)."""
        return self._error is not None

    def wait(self, current: dict[str, Any], decide: Decide[T], deadline: float) -> T:
        """Like watch.wait_for, fed by the shared watch: returns what decide
        returns, raises what it raises (or the error that kept the watch from
        starting), or DeadlineExceeded."""
        name = current["metadata"]["name"]
        verdict = decide(INITIAL, current)
        if verdict is not None:
            return verdict
        last = current
        while True:
            with self._condition:
                entry = self._latest.pop(name, None)
                while entry is None:
                    if self._error is not None:
                        raise self._error
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise DeadlineExceeded(last)
                    self._condition.wait(remaining)
                    entry = self._latest.pop(name, None)
            event_type, last = entry
            verdict = decide(event_type, last)  # outside the lock: the watch thread goes on publishing
            if verdict is not None:
                return verdict

    # -- watch side --------------------------------------------------------

    def start(self) -> None:
        """Starts the watch's thread: it lists (for a resourceVersion) and
        watches from there. Returns at once; ``expect`` works before the list."""
        if self._thread is not None:
            return
        self._thread = _threads.start(f"arl-watch-{self._plural}-{self._selector}", self._run, stop=self.stop)

    def stop(self) -> None:
        self._stopping.set()
        response = self._response
        if response is not None:
            _shutdown(response)
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self) -> None:
        try:
            self._version = self._relist()
        except BaseException as error:  # noqa: BLE001 - handed to the waiters
            with self._condition:
                self._error = error
                self._condition.notify_all()
            return
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
                logger.debug(
                    "watch of %s %s failed (%s); retrying in %.2fs", self._plural, self._selector, error, backoff
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    def _watch_once(self) -> None:
        events = stream_events(
            self._list,
            from_version=self._version,
            timeout=_WATCH_SECONDS,
            label_selector=self._selector,
            on_response=self._remember_response,
            api_client=getattr(self._api, "api_client", None),  # unit tests' fakes have none
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
            if self._keep_all:
                if event_type == "DELETED":
                    self._objects.pop(name, None)
                else:
                    self._objects[name] = obj
            if name in self._expected:
                self._latest[name] = (event_type, obj)
                self._condition.notify_all()

    def _relist(self) -> str:
        listed: Any = self._list(label_selector=self._selector)
        if not isinstance(listed, dict):  # a typed list (secrets): the same JSON shape as an event's object
            listed = self._api.api_client.sanitize_for_serialization(listed)
        if self._keep_all:
            with self._condition:
                self._objects.clear()
        for item in listed.get("items") or []:
            self._publish(RELISTED, item)
        return str((listed.get("metadata") or {}).get("resourceVersion") or "")

    def _relist_or_keep(self) -> str:
        try:
            return self._relist()
        except ApiException as error:
            logger.debug("relisting %s %s failed: %s", self._plural, self._selector, error)
            return ""


def _lister(api: Any, namespace: str, plural: str) -> Lister:
    if plural == SECRETS:
        return functools.partial(api.list_namespaced_secret, namespace)
    return custom_objects_lister(api, namespace, plural)


def _shutdown(response: Any) -> None:
    """Unblocks a thread reading the response (as kubernetes.watch.Watch.stop does)."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


SECRETS = "secrets"

_shared_lock = threading.Lock()
_shared: dict[tuple[int, str, str, str], tuple[client.ApiClient, SharedWatch]] = {}


def for_process(
    api_client: client.ApiClient,
    namespace: str,
    plural: str,
    label_selector: str | None = None,
    *,
    keep_all: bool = False,
) -> SharedWatch:
    """The process's watch of ``plural`` in ``namespace`` over the objects
    matching ``label_selector`` (default: those carrying the process's client
    label), started on first use and kept (exit stops it). A watch whose first
    list failed is replaced by the next call, unless it was refused (401/403):
    that is remembered, and its waiters get the refusal at once."""
    selector = label_selector or _plan.client_selector()
    key = (id(api_client), namespace, plural, selector)
    with _shared_lock:
        entry = _shared.get(key)
        if entry is not None and entry[0] is api_client and not _worth_retrying(entry[1]):
            return entry[1]
        api = client.CoreV1Api(api_client) if plural == SECRETS else client.CustomObjectsApi(api_client)
        watch = SharedWatch(api, namespace, plural, selector, keep_all=keep_all)
        _shared[key] = (api_client, watch)
    watch.start()
    return watch


def _worth_retrying(watch: SharedWatch) -> bool:
    error = watch._error  # noqa: SLF001 - the module's own class
    return error is not None and not (isinstance(error, ApiException) and error.status in (401, 403))


def _forget_in_child() -> None:
    """A forked child has none of its parent's watch threads: it starts its own."""
    global _shared_lock  # noqa: PLW0603 - the child's fresh state
    _shared_lock = threading.Lock()
    _shared.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def stop_all() -> None:
    """Stops the process's shared watches (tests; a forked child starts its own)."""
    with _shared_lock:
        watches = [watch for _, watch in _shared.values()]
        _shared.clear()
    for watch in watches:
        watch.stop()
