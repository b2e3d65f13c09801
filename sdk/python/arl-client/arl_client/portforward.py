"""Reaching a sidecar from outside the cluster: the API server's pod port-forward.

When the pod IP is not routable from where the SDK runs (a laptop against
EKS or GKE), ``PortForward`` listens on ``127.0.0.1:<free port>`` and carries
each accepted connection through its own API-server port-forward
(``pods/portforward``, the websocket protocol of the official client) to the
sidecar's port. The direct-path clients then talk to the local address: same
API, same sidecar token (the API server sees the kubeconfig's credentials;
the Connect requests inside the tunnel still carry the sandbox's token).

The tunnel is byte-level, so HTTP/2 (the pty's Interact stream) works through
it as well. ``reachable`` is the quick test the sessions use to pick a mode.

Two engines: ``kubectl port-forward`` when kubectl is on PATH (``KubectlPortForward``:
it speaks the API server's current port-forward protocols, SPDY over
websockets), else the official Python client's websocket port-forward
(``PortForward``), which needs a node that still serves the legacy
websocket port-forward protocol; the local cluster's node does not.
``open_port_forward`` picks one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import threading
from typing import Any

from kubernetes import client
from kubernetes.stream import portforward

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 0.3  # seconds: a pod IP that does not accept a TCP connection by then is not reachable
_CHUNK = 65536


def reachable(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when a TCP connection to host:port opens within ``timeout``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class PortForward:
    """A local listener forwarding to ``pod:port`` through the API server.

    Args:
        api_client: a kubernetes (sync) ApiClient with rights on pods/portforward.
        namespace, pod, port: the target.
        owns_client: close ``api_client`` with the port-forward.
    """

    def __init__(
        self, api_client: client.ApiClient, namespace: str, pod: str, port: int, *, owns_client: bool = False
    ) -> None:
        self._api_client = api_client if owns_client else None
        self._core = client.CoreV1Api(api_client)
        self.namespace = namespace
        self.pod = pod
        self.port = port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.local_port = int(self._listener.getsockname()[1])
        self._closed = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name=f"arl-port-forward-{pod}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The local base URL to give the sidecar clients."""
        return f"http://127.0.0.1:{self.local_port}"

    def close(self) -> None:
        """Stops listening and closes every forwarded connection."""
        self._closed.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            _close(connection)
        if self._api_client is not None:
            self._api_client.close()  # type: ignore[no-untyped-call]

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                local, _ = self._listener.accept()
            except OSError:
                return
            local.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.add(local)
            threading.Thread(target=self._forward, args=(local,), name="arl-port-forward-conn", daemon=True).start()

    def _forward(self, local: socket.socket) -> None:
        try:
            tunnel: Any = portforward(
                self._core.connect_get_namespaced_pod_portforward, self.pod, self.namespace, ports=str(self.port)
            )
            remote = tunnel.socket(self.port)
            remote.setblocking(True)
        except Exception as error:  # noqa: BLE001 - the client sees the connection close
            logger.warning("port-forward to %s/%s:%d failed: %s", self.namespace, self.pod, self.port, error)
            self._drop(local)
            return
        upstream = threading.Thread(target=_pump, args=(local, remote), name="arl-port-forward-up", daemon=True)
        upstream.start()
        _pump(remote, local)
        upstream.join()
        tunnel.close()
        self._drop(local)

    def _drop(self, local: socket.socket) -> None:
        with self._lock:
            self._connections.discard(local)
        _close(local)


def _pump(source: Any, target: Any) -> None:
    try:
        while True:
            data = source.recv(_CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()


_FORWARDING = re.compile(rb"Forwarding from 127\.0\.0\.1:(\d+)")


class KubectlPortForward:
    """``kubectl port-forward pod/<pod> :<port>`` on 127.0.0.1, for as long as it is open."""

    def __init__(self, namespace: str, pod: str, port: int, *, context: str | None = None,
                 kubectl: str = "kubectl", start_timeout: float = 15.0) -> None:
        argv = [kubectl, "port-forward", "--namespace", namespace, "--address", "127.0.0.1", f"pod/{pod}", f":{port}"]
        if context:
            argv[1:1] = ["--context", context]
        self.namespace, self.pod, self.port = namespace, pod, port
        self._process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=dict(os.environ)
        )
        found: list[int] = []
        ready = threading.Event()

        def read() -> None:
            assert self._process.stdout is not None
            for line in self._process.stdout:
                match = _FORWARDING.search(line)
                if match and not found:
                    found.append(int(match.group(1)))
                    ready.set()
                elif not found:
                    logger.warning("kubectl port-forward: %s", line.decode(errors="replace").strip())
            ready.set()

        threading.Thread(target=read, name=f"arl-kubectl-port-forward-{pod}", daemon=True).start()
        if not ready.wait(start_timeout) or not found:
            self.close()
            raise OSError(f"kubectl port-forward to {namespace}/{pod}:{port} did not start")
        self.local_port = found[0]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def open_port_forward(api_client: Any, namespace: str, pod: str, port: int, *, context: str | None = None,
                      owns_client: bool = False) -> PortForward | KubectlPortForward:
    """kubectl's port-forward when kubectl is on PATH, else the Python client's."""
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        if owns_client:
            api_client.close()
        return KubectlPortForward(namespace, pod, port, context=context, kubectl=kubectl)
    return PortForward(api_client, namespace, pod, port, owns_client=owns_client)
