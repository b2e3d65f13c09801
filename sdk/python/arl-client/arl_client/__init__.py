"""ARL Python SDK: sandboxes and tasks on Kubernetes, and a direct sidecar client.

    from arl_client.session import SandboxSession

    with SandboxSession("python-pool", namespace="default") as session:
        result = session.execute([{"name": "hi", "type": "Command", "command": ["echo", "hi"]}])
        print(result["status"]["stdout"])
"""

from .async_session import AsyncSandboxSession
from .exceptions import (
    ArlError,
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
from .session import SandboxSession
from .sidecar import ExecResult, SidecarClient

__all__ = [
    "ArlError",
    "AsyncSandboxSession",
    "ExecResult",
    "PoolNotFoundError",
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
