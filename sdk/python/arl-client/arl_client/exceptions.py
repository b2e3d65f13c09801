"""One exception tree for everything the SDK raises.

ArlError is a RuntimeError, so the manual's ``except RuntimeError`` catches
every ARL failure. The timeout errors are also TimeoutErrors, so the manual's
``except TimeoutError`` (written before ``except RuntimeError``) catches them
first.

    ArlError(RuntimeError)
    ├── InvalidArgumentError       (also ValueError) bad input, refused before anything is sent
    ├── PoolNotFoundError          the WarmPool named by the session does not exist
    ├── SandboxFailedError         the sandbox went Failed or was deleted under us
    ├── SandboxTimeoutError        (also TimeoutError) the sandbox was not Ready in time
    ├── TaskRejectedError          the apiserver refused the Task (webhook or schema)
    ├── TaskFailedError            the Task failed for a reason other than its command
    ├── TaskTimeoutError           (also TimeoutError) the Task did not finish in time
    ├── SessionClosedError         the session was used outside its ``with`` block
    └── SidecarError               a direct-path call failed (carries the Connect code)
        └── SidecarAuthError       the sidecar refused the token
"""

from __future__ import annotations

from typing import Any


class ArlError(RuntimeError):
    """Base of every error raised by arl_client."""


class InvalidArgumentError(ArlError, ValueError):
    """An argument is invalid (a bad step, a path outside the workspace, a
    timeout <= 0, ...); raised before anything is sent. ``argument`` names the
    argument, and the message says what is wrong with it."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message


class PoolNotFoundError(ArlError):
    """The WarmPool named by the session does not exist in its namespace."""

    def __init__(self, pool: str, namespace: str) -> None:
        super().__init__(
            f"WarmPool {namespace}/{pool} not found: create it first "
            f"(kubectl apply -f warmpool.yaml) or check the pool name and namespace"
        )
        self.pool = pool
        self.namespace = namespace


class SandboxFailedError(ArlError):
    """The sandbox reached phase Failed, or disappeared while in use."""

    def __init__(self, name: str, reason: str, message: str = "") -> None:
        detail = f": {message}" if message else ""
        super().__init__(f"sandbox {name} failed ({reason}){detail}")
        self.name = name
        self.reason = reason
        self.message = message


class SandboxTimeoutError(ArlError, TimeoutError):
    """The sandbox did not become Ready within the session's timeout."""

    def __init__(self, name: str, timeout: float, phase: str, reason: str) -> None:
        super().__init__(
            f"sandbox {name} not Ready after {timeout:g}s "
            f"(phase {phase or 'unset'}, reason {reason or 'unset'})"
        )
        self.name = name
        self.timeout = timeout
        self.phase = phase
        self.reason = reason


class TaskRejectedError(ArlError):
    """The apiserver refused to create the Task (admission webhook or schema).

    ``message`` holds the apiserver's own message, for example the webhook's
    denial reason.
    """

    def __init__(self, name: str, status: int, message: str) -> None:
        super().__init__(f"task {name} rejected by the apiserver (HTTP {status}): {message}")
        self.name = name
        self.status = status
        self.message = message


class TaskFailedError(ArlError):
    """The Task ended Failed for a reason other than its own command's exit code.

    The Task as a dict is in ``task``.
    """

    def __init__(self, name: str, reason: str, message: str, task: dict[str, Any]) -> None:
        detail = f": {message}" if message else ""
        super().__init__(f"task {name} failed ({reason}){detail}")
        self.name = name
        self.reason = reason
        self.message = message
        self.task = task


class TaskTimeoutError(ArlError, TimeoutError):
    """The Task did not finish in time (its own spec.timeout, or the SDK's wait).

    ``task`` holds the last Task seen, if any.
    """

    def __init__(self, name: str, message: str, task: dict[str, Any] | None = None) -> None:
        super().__init__(f"task {name} timed out: {message}")
        self.name = name
        self.message = message
        self.task = task


class SessionClosedError(ArlError):
    """The session is not open (used before ``__enter__`` or after ``__exit__``)."""


class SidecarError(ArlError):
    """A direct-path call to the sandbox's sidecar failed.

    ``code`` is the Connect code name (for example ``not_found``).
    """

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"sidecar {operation}: {code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message


class SidecarAuthError(SidecarError):
    """The sidecar refused the call: missing or wrong token."""
