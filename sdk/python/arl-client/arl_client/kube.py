"""Kubernetes client configuration: kubeconfig (KUBECONFIG) first, in-cluster second.

The configuration is loaded once per (kubeconfig path, context). Sessions
share one ApiClient per process and (kubeconfig path, context): its urllib3
pool is thread-safe and keeps connections alive, so a session after the
first opens with no new TLS handshake. A forked child builds its own.
"""

from __future__ import annotations

import copy
import logging
import os
import threading

from kubernetes import client, config

from . import _threads

logger = logging.getLogger(__name__)

GROUP = "arl.infra.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
WARMPOOLS = "warmpools"
SANDBOXES = "sandboxes"
TASKS = "tasks"

_lock = threading.Lock()
_configurations: dict[tuple[str, str | None], client.Configuration] = {}


def load_configuration(context: str | None = None) -> client.Configuration:
    """Returns the client configuration from KUBECONFIG (or ~/.kube/config),
    falling back to the in-cluster service account."""
    kubeconfig = os.environ.get("KUBECONFIG", "")
    key = (kubeconfig, context)
    with _lock:
        cached = _configurations.get(key)
        if cached is None:
            cached = _load(context)
            _configurations[key] = cached
    return cached


def _load(context: str | None) -> client.Configuration:
    configuration = client.Configuration()
    try:
        config.load_kube_config(context=context, client_configuration=configuration)  # type: ignore[no-untyped-call]
        return configuration
    except config.ConfigException as kubeconfig_error:
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except config.ConfigException as incluster_error:
            raise config.ConfigException(
                "no Kubernetes configuration: set KUBECONFIG (for the local cluster, "
                "run `make local-up` and export KUBECONFIG=.state/local/kubeconfig) "
                f"or run in a pod; kubeconfig: {kubeconfig_error}; in-cluster: {incluster_error}"
            ) from incluster_error
        logger.debug("using the in-cluster Kubernetes configuration")
        return configuration


# Connections kept per API server host in the shared client's pool: enough for
# many sessions' concurrent requests and Task watches (urllib3 opens more when
# they are all busy, and drops the extra ones afterwards).
SHARED_POOL_SIZE = 64

_shared_clients: dict[tuple[str, str | None, int], client.ApiClient] = {}


def shared_api_client(context: str | None = None) -> client.ApiClient:
    """The process's ApiClient for (KUBECONFIG, context); never close it."""
    key = (os.environ.get("KUBECONFIG", ""), context, os.getpid())
    with _lock:
        shared = _shared_clients.get(key)
    if shared is not None:
        return shared
    configuration = copy.deepcopy(load_configuration(context))
    configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0, SHARED_POOL_SIZE)
    built = client.ApiClient(configuration)
    with _lock:
        shared = _shared_clients.setdefault(key, built)
    if shared is not built:
        built.close()  # type: ignore[no-untyped-call]
    return shared


def replace_connection(api_client: client.ApiClient) -> None:
    """Opens a connection to the API server in the background (GET /version,
    which every client may read) in place of one a watch closed: a watch
    stopped before its end cannot hand its connection back to the pool, and
    the next request (the token read, the DELETE at close) would otherwise pay
    a TLS handshake on the caller's path. The GET reuses an idle connection if
    the pool still has one, so the pool never grows beyond what was in use."""

    if _threads.exiting():
        return

    def run() -> None:
        try:
            client.VersionApi(api_client).get_code(_request_timeout=5)
        except Exception as error:  # noqa: BLE001 - only a spare: the next request connects itself
            logger.debug("opening a spare API server connection failed: %s", error)

    _threads.start("arl-api-spare", run)


def new_api_client(
    configuration: client.Configuration | None = None, context: str | None = None
) -> client.ApiClient:
    return client.ApiClient(configuration or load_configuration(context))


# WarmPools seen to exist, per (API server, namespace, pool): a session checks
# its pool once per process (an unknown pool fails before anything is sent);
# a pool deleted later still shows in the Sandbox's PoolNotFound condition.
_known_pools: set[tuple[str, str, str]] = set()


def _pool_key(api_client: object, namespace: str, pool: str) -> tuple[str, str, str]:
    host = str(getattr(getattr(api_client, "configuration", None), "host", "") or "")
    return (host, namespace, pool)


def pool_known(api_client: object, namespace: str, pool: str) -> bool:
    with _lock:
        return _pool_key(api_client, namespace, pool) in _known_pools


def remember_pool(api_client: object, namespace: str, pool: str) -> None:
    with _lock:
        _known_pools.add(_pool_key(api_client, namespace, pool))
