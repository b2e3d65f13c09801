"""Fixtures for the tests against a real cluster with the ARL operator.

KUBECONFIG selects the cluster; when it is unset and the local cluster's
kubeconfig exists (.state/local/kubeconfig), that one is used. A missing or
unreachable cluster, or one without the ARL CRDs, fails the tests with what
to run: they are never skipped.

ARL_E2E_NODE selects the node the tests expect, as for the Go e2e suites:
``kubelet`` is the real node (kubelet + containerd + runc, ``make local-up
NODE=kubelet``), unset or ``process`` the process node; the session fails
unless that node is Ready. Every test passes on both nodes
(docs/real-node.md, "The Python SDK's tests on the real node").
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from arl_client import kube
from arl_client.watch import DeadlineExceeded, wait_for

REPO_ROOT = Path(__file__).resolve().parents[5]
LOCAL_KUBECONFIG = REPO_ROOT / ".state" / "local" / "kubeconfig"
EXAMPLES_DIR = REPO_ROOT / "examples" / "python"
NAMESPACE = "default"
POOL = "python-pool"
START_CLUSTER = "start the local cluster with the operator: `make local-up` at the repository root"
NODE_ENV = "ARL_E2E_NODE"


def real_node() -> bool:
    """True when the tests run against the kubelet node (ARL_E2E_NODE=kubelet)."""
    return os.environ.get(NODE_ENV) == "kubelet"


def require_node(api: client.ApiClient) -> None:
    """Fails unless the node ARL_E2E_NODE names is Ready: arl-kubelet for
    kubelet, arl-node otherwise."""
    want, kind = ("arl-kubelet", "kubelet") if real_node() else ("arl-node", "process")
    try:
        node = client.CoreV1Api(api).read_node(want, _request_timeout=5)
    except ApiException as error:
        pytest.fail(f"{NODE_ENV}={os.environ.get(NODE_ENV, '')!r} wants node {want} in the cluster "
                    f"(reading it: {error.status} {error.reason}); start it with `make local-up NODE={kind}`")
    ready = [c.status for c in node.status.conditions or [] if c.type == "Ready"]
    if ready != ["True"]:
        pytest.fail(f"{NODE_ENV}={os.environ.get(NODE_ENV, '')!r} wants node {want} Ready (Ready is {ready}); "
                    f"start it with `make local-up NODE={kind}`")


MANUAL_WARMPOOL = {
    "apiVersion": kube.API_VERSION,
    "kind": "WarmPool",
    "metadata": {"name": POOL, "namespace": NAMESPACE},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "executor",
                        "image": "python:3.9-slim",
                        "command": ["sleep", "infinity"],
                        "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
                    }
                ],
                "volumes": [{"name": "workspace", "emptyDir": {}}],
            }
        },
    },
}


@pytest.fixture(scope="session")
def api_client() -> client.ApiClient:
    if not os.environ.get("KUBECONFIG") and LOCAL_KUBECONFIG.exists():
        os.environ["KUBECONFIG"] = str(LOCAL_KUBECONFIG)
    try:
        configuration = kube.load_configuration()
    except config.ConfigException as error:
        pytest.fail(f"no Kubernetes cluster configured ({error}); {START_CLUSTER}")
    api = client.ApiClient(configuration)
    extensions = client.ApiextensionsV1Api(api)
    for crd in ("warmpools", "sandboxes", "tasks"):
        try:
            extensions.read_custom_resource_definition(f"{crd}.{kube.GROUP}", _request_timeout=5)
        except ApiException as error:
            if error.status == 404:
                pytest.fail(f"the cluster has no {crd}.{kube.GROUP} CRD: install the operator; {START_CLUSTER}")
            raise
        except urllib3.exceptions.HTTPError as error:
            pytest.fail(f"cluster at {configuration.host} not reachable ({error}); {START_CLUSTER}")
    require_node(api)
    yield api
    api.close()


@pytest.fixture(scope="session")
def custom(api_client) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture(scope="session")
def pool(custom) -> str:
    """The manual's python-pool, created if absent, with at least one Ready pod."""
    created = False
    try:
        current = custom.create_namespaced_custom_object(
            kube.GROUP, kube.VERSION, NAMESPACE, kube.WARMPOOLS, MANUAL_WARMPOOL
        )
        created = True
    except ApiException as error:
        if error.status != 409:
            raise
        current = custom.get_namespaced_custom_object(kube.GROUP, kube.VERSION, NAMESPACE, kube.WARMPOOLS, POOL)

    def has_ready_pod(event_type, obj):
        return obj if (obj.get("status") or {}).get("readyReplicas", 0) >= 1 else None

    try:
        wait_for(custom, NAMESPACE, kube.WARMPOOLS, current, has_ready_pod, time.monotonic() + 120)
    except DeadlineExceeded as exceeded:
        pytest.fail(f"WarmPool {POOL} has no Ready pod after 120s: status {exceeded.last.get('status')}")
    yield POOL
    if created:
        custom.delete_namespaced_custom_object(kube.GROUP, kube.VERSION, NAMESPACE, kube.WARMPOOLS, POOL)


def sandbox_exists(custom: client.CustomObjectsApi, name: str) -> bool:
    try:
        custom.get_namespaced_custom_object(kube.GROUP, kube.VERSION, NAMESPACE, kube.SANDBOXES, name)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def session_sandboxes(custom: client.CustomObjectsApi) -> set[str]:
    """Names of the sandboxes made by arl-client in the test namespace."""
    listed = custom.list_namespaced_custom_object(
        kube.GROUP, kube.VERSION, NAMESPACE, kube.SANDBOXES,
        label_selector="app.kubernetes.io/managed-by=arl-client",
    )
    return {item["metadata"]["name"] for item in listed["items"]}
