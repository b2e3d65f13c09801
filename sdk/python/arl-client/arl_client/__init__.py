"""ARL Python SDK: sandboxes and tasks on Kubernetes, and a direct sidecar client.

    from arl_client import SandboxSession

    with SandboxSession("python-pool", namespace="default") as session:
        result = session.execute([{"name": "hi", "type": "Command", "command": ["echo", "hi"]}])
        print(result["status"]["stdout"])
        print(session.run("echo direct").stdout)

The names below are loaded on first use (PEP 562), so ``import arl_client``
stays cheap: the Kubernetes and Connect clients are imported only by the
module that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .exceptions import (
    ArlError,
    InvalidArgumentError,
    PoolNotFoundError,
    SandboxFailedError,
    SandboxTimeoutError,
    SessionClosedError,
    SidecarAuthError,
    SidecarError,
    TaskFailedError,
    TaskRejectedError,
    TaskTimeoutError,
)

if TYPE_CHECKING:
    from .async_session import AsyncSandboxSession
    from .async_sidecar import AsyncProcess, AsyncSidecarClient
    from .results import ExecResult
    from .session import SandboxSession
    from .sidecar import Process, SidecarClient

_LAZY = {
    "AsyncProcess": "async_sidecar",
    "AsyncSandboxSession": "async_session",
    "AsyncSidecarClient": "async_sidecar",
    "ExecResult": "results",
    "Process": "sidecar",
    "SandboxSession": "session",
    "SidecarClient": "sidecar",
}

__all__ = [
    "ArlError",
    "AsyncProcess",
    "AsyncSandboxSession",
    "AsyncSidecarClient",
    "ExecResult",
    "InvalidArgumentError",
    "PoolNotFoundError",
    "Process",
    "SandboxFailedError",
    "SandboxSession",
    "SandboxTimeoutError",
    "SessionClosedError",
    "SidecarAuthError",
    "SidecarClient",
    "SidecarError",
    "TaskFailedError",
    "TaskRejectedError",
    "TaskTimeoutError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
