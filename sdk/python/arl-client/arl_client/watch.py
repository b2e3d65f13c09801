"""Waiting for a custom object by watching it, never by polling.

``wait_for`` starts a watch on one object (field selector
``metadata.name=<name>``) from the resourceVersion of the copy the caller
already holds (the response of its create or get), so no change between that
read and the watch can be missed. Each event goes to a ``decide`` function
that returns a result, raises, or returns None to keep waiting.

The watch is the apiserver's list call with ``watch=true`` read line by line
(the same stream ``kubernetes.watch.Watch`` reads); reading it directly keeps
the raw JSON dicts, handles "410 Gone" by re-reading the object, and bounds
every read by the caller's deadline.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar, cast

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from .kube import GROUP, VERSION, replace_connection

logger = logging.getLogger(__name__)

T = TypeVar("T")
Decide = Callable[[str, dict[str, Any]], T | None]

# Event types passed to decide besides the apiserver's ADDED/MODIFIED/DELETED.
INITIAL = "INITIAL"  # the caller's own copy, before any event
RELISTED = "RELISTED"  # a fresh read after the watch expired (410 Gone)

_CONNECT_TIMEOUT = 10.0
_READ_SLACK = 5.0  # beyond the server-side timeoutSeconds


class DeadlineExceeded(Exception):
    """The deadline passed before decide returned a result; ``last`` is the
    last copy of the object seen."""

    def __init__(self, last: dict[str, Any]) -> None:
        super().__init__("deadline exceeded")
        self.last = last


class WatchExpired(Exception):
    """The watch's resourceVersion is too old (HTTP 410 Gone)."""


def resource_version(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


Lister = Callable[..., Any]  # a list call of one kind in one namespace, taking the list's keyword arguments


def custom_objects_lister(api: client.CustomObjectsApi, namespace: str, plural: str) -> Lister:
    """The list call of one custom resource (``plural``) in ``namespace``."""
    return functools.partial(api.list_namespaced_custom_object, GROUP, VERSION, namespace, plural)


def stream_events(
    list_objects: Lister,
    *,
    from_version: str,
    timeout: float,
    field_selector: str | None = None,
    label_selector: str | None = None,
    on_response: Callable[[Any], None] | None = None,
    api_client: Any = None,
) -> Generator[tuple[str, dict[str, Any]], None, None]:
    """Yields (event type, object) from one watch request of ``list_objects``.

    The request ends by itself after ``timeout`` seconds (server side, with
    a socket read timeout a little later as a backstop). ``on_response``
    receives the raw response, so another thread can shut it down. A watch
    stopped before its end has its connection to ``api_client``'s API server
    replaced in the background (kube.replace_connection).
    """
    response: Any = list_objects(
        watch=True,
        allow_watch_bookmarks=True,
        resource_version=from_version or None,
        field_selector=field_selector,
        label_selector=label_selector,
        timeout_seconds=max(1, math.ceil(timeout)),
        _preload_content=False,
        _request_timeout=(_CONNECT_TIMEOUT, timeout + _READ_SLACK),
    )
    if on_response is not None:
        on_response(response)
    ended = False
    try:
        for line in iter_resp_lines(response):  # type: ignore[no-untyped-call]
            if not line:
                continue
            event = json.loads(line)
            event_type = event.get("type", "")
            obj = event.get("object") or {}
            if event_type == "ERROR":
                if obj.get("code") == 410:
                    raise WatchExpired(obj.get("message", ""))
                raise ApiException(
                    status=obj.get("code", 0),
                    reason=f"{obj.get('reason', '')}: {obj.get('message', '')}",
                )
            yield event_type, obj
        ended = True
    finally:
        response.close()
        response.release_conn()
        if not ended and api_client is not None:
            replace_connection(api_client)


def wait_for(
    api: client.CustomObjectsApi,
    namespace: str,
    plural: str,
    current: dict[str, Any],
    decide: Decide[T],
    deadline: float,
) -> T:
    """Watches the object ``current`` until ``decide`` returns a result.

    ``deadline`` is a time.monotonic() value. Raises DeadlineExceeded when it
    passes, and whatever ``decide`` raises.
    """
    name = current["metadata"]["name"]
    verdict = decide(INITIAL, current)
    if verdict is not None:
        return verdict
    last = current
    version = resource_version(current)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(last)
        events = stream_events(
            custom_objects_lister(api, namespace, plural),
            from_version=version,
            timeout=remaining,
            field_selector=f"metadata.name={name}",
            api_client=getattr(api, "api_client", None),  # unit tests' fakes have none
        )
        try:
            for event_type, obj in events:
                version = resource_version(obj) or version
                if event_type == "BOOKMARK":
                    continue
                last = obj
                verdict = decide(event_type, obj)
                if verdict is not None:
                    return verdict
        except WatchExpired:
            logger.debug("watch on %s/%s %s expired; reading it again", plural, namespace, name)
            fresh = _reread(api, namespace, plural, name)
            if fresh is None:
                verdict = decide("DELETED", last)
            else:
                last, version = fresh, resource_version(fresh)
                verdict = decide(RELISTED, fresh)
            if verdict is not None:
                return verdict
        except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError) as error:
            logger.debug("watch on %s/%s %s interrupted: %s", plural, namespace, name, error)
        finally:
            events.close()  # ends the HTTP request now, not when garbage-collected


def _reread(
    api: client.CustomObjectsApi, namespace: str, plural: str, name: str
) -> dict[str, Any] | None:
    try:
        return cast(dict[str, Any], api.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name))
    except ApiException as error:
        if error.status == 404:
            return None
        raise
