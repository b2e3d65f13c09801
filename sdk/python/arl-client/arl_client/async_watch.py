"""Watching on asyncio (kubernetes_asyncio): the twin of watch.py and shared_watch.py.

Same protocol as the sync side: a watch starts from the resourceVersion of
the copy the caller holds, each event goes to the same ``decide`` functions
(verdicts.py), "410 Gone" re-reads the object; one shared watch over a
session's Tasks feeds every ``execute``, each registering its Task name
before creating it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncGenerator
from typing import Any, TypeVar, cast

import aiohttp
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from .kube import GROUP, VERSION
from .watch import INITIAL, RELISTED, DeadlineExceeded, Decide, WatchExpired, resource_version

logger = logging.getLogger(__name__)

T = TypeVar("T")

_CONNECT_TIMEOUT = 10.0
_READ_SLACK = 5.0
_WATCH_SECONDS = 300.0
_MAX_BACKOFF = 2.0

_configurations: dict[tuple[str, str | None], client.Configuration] = {}


async def new_api_client(context: str | None = None) -> client.ApiClient:
    """An ApiClient from KUBECONFIG (or ~/.kube/config), else the in-cluster
    config; the configuration is loaded once per (kubeconfig, context)."""
    import os

    key = (os.environ.get("KUBECONFIG", ""), context)
    configuration = _configurations.get(key)
    if configuration is None:
        configuration = client.Configuration()
        try:
            await config.load_kube_config(context=context, client_configuration=configuration)
        except config.ConfigException as kubeconfig_error:
            try:
                config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            except config.ConfigException as incluster_error:
                raise config.ConfigException(
                    "no Kubernetes configuration: set KUBECONFIG (for the local cluster, run `make local-up` "
                    f"and export KUBECONFIG=.state/local/kubeconfig) or run in a pod; kubeconfig: "
                    f"{kubeconfig_error}; in-cluster: {incluster_error}"
                ) from incluster_error
        _configurations[key] = configuration
    return client.ApiClient(configuration)


async def stream_events(
    api: client.CustomObjectsApi,
    namespace: str,
    plural: str,
    *,
    from_version: str,
    timeout: float,
    field_selector: str | None = None,
    label_selector: str | None = None,
) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    """Yields (event type, object) from one watch request (see watch.stream_events)."""
    kwargs: dict[str, Any] = {}
    if field_selector:
        kwargs["field_selector"] = field_selector
    if label_selector:
        kwargs["label_selector"] = label_selector
    if from_version:
        kwargs["resource_version"] = from_version
    response: Any = await api.list_namespaced_custom_object(
        GROUP, VERSION, namespace, plural,
        watch=True, allow_watch_bookmarks=True, timeout_seconds=max(1, math.ceil(timeout)),
        _preload_content=False, _request_timeout=(_CONNECT_TIMEOUT, timeout + _READ_SLACK), **kwargs,
    )
    try:
        async for raw in response.content:
            line = raw.strip()
            if not line:
                continue
            event = json.loads(line)
            event_type = event.get("type", "")
            obj = event.get("object") or {}
            if event_type == "ERROR":
                if obj.get("code") == 410:
                    raise WatchExpired(obj.get("message", ""))
                reason = f"{obj.get('reason', '')}: {obj.get('message', '')}"
                raise ApiException(status=obj.get("code", 0), reason=reason)
            yield event_type, obj
    finally:
        response.close()


async def wait_for(
    api: client.CustomObjectsApi,
    namespace: str,
    plural: str,
    current: dict[str, Any],
    decide: Decide[T],
    deadline: float,
) -> T:
    """Watches ``current`` until ``decide`` returns a result (see watch.wait_for)."""
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
            api, namespace, plural, from_version=version, timeout=remaining, field_selector=f"metadata.name={name}"
        )
        try:
            async with asyncio.timeout(remaining):
                async for event_type, obj in events:
                    version = resource_version(obj) or version
                    if event_type == "BOOKMARK":
                        continue
                    last = obj
                    verdict = decide(event_type, obj)
                    if verdict is not None:
                        return verdict
        except TimeoutError:
            raise DeadlineExceeded(last) from None
        except WatchExpired:
            fresh = await _reread(api, namespace, plural, name)
            if fresh is None:
                verdict = decide("DELETED", last)
            else:
                last, version = fresh, resource_version(fresh)
                verdict = decide(RELISTED, fresh)
            if verdict is not None:
                return verdict
        except aiohttp.ClientError as error:
            logger.debug("watch on %s/%s %s interrupted: %s", plural, namespace, name, error)
        finally:
            await events.aclose()


async def _reread(api: client.CustomObjectsApi, namespace: str, plural: str, name: str) -> dict[str, Any] | None:
    try:
        return cast(dict[str, Any], await api.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name))
    except ApiException as error:
        if error.status == 404:
            return None
        raise


class AsyncTaskWatcher:
    """The asyncio twin of shared_watch.SharedWatch, per session: one watch task, many waiters."""

    def __init__(self, api: client.CustomObjectsApi, namespace: str, plural: str, label_selector: str) -> None:
        self._api = api
        self._namespace = namespace
        self._plural = plural
        self._selector = label_selector
        self._changed = asyncio.Condition()
        self._expected: set[str] = set()
        self._latest: dict[str, tuple[str, dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._version = ""

    def expect(self, name: str) -> None:
        self._expected.add(name)

    def forget(self, name: str) -> None:
        self._expected.discard(name)
        self._latest.pop(name, None)

    async def wait(self, current: dict[str, Any], decide: Decide[T], deadline: float) -> T:
        name = current["metadata"]["name"]
        verdict = decide(INITIAL, current)
        if verdict is not None:
            return verdict
        last = current
        async with self._changed:
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
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def start(self) -> None:
        if self._task is not None:
            return
        self._version = await self._relist()
        self._task = asyncio.create_task(self._run(), name=f"arl-task-watch-{self._selector}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            try:
                async for event_type, obj in stream_events(
                    self._api, self._namespace, self._plural, from_version=self._version,
                    timeout=_WATCH_SECONDS, label_selector=self._selector,
                ):
                    self._version = resource_version(obj) or self._version
                    if event_type != "BOOKMARK":
                        await self._publish(event_type, obj)
                backoff = 0.05
            except WatchExpired:
                try:
                    self._version = await self._relist()
                except ApiException:
                    self._version = ""
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure: back off and watch again
                logger.debug("task watch %s failed (%s); retrying in %.2fs", self._selector, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _publish(self, event_type: str, obj: dict[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name", "")
        if name in self._expected:
            async with self._changed:
                self._latest[name] = (event_type, obj)
                self._changed.notify_all()

    async def _relist(self) -> str:
        listed: Any = await self._api.list_namespaced_custom_object(
            GROUP, VERSION, self._namespace, self._plural, label_selector=self._selector
        )
        for item in listed.get("items") or []:
            await self._publish(RELISTED, item)
        return str((listed.get("metadata") or {}).get("resourceVersion") or "")
