"""AsyncSandboxSession: the ``async with`` twin of SandboxSession.

    async with AsyncSandboxSession("python-pool") as session:
        result = await session.execute(steps)

Each blocking call (create, watch, delete) runs in a worker thread
(asyncio.to_thread) on the same SandboxSession, so the semantics, the
exceptions and the clean-up are exactly those of the sync session; the
event loop stays free while the apiserver answers. Leaving the block, also
by an exception or a cancellation, deletes what the session created.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from .durations import Duration
from .session import SandboxSession
from .sidecar import SidecarClient
from .steps import StepInput


class AsyncSandboxSession:
    """Takes the same arguments as SandboxSession."""

    def __init__(self, pool_ref: str, namespace: str = "default", keep_alive: bool = False,
                 timeout: Duration = 120.0, **options: Any) -> None:
        self.session = SandboxSession(pool_ref, namespace, keep_alive, timeout, **options)

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def sandbox(self) -> dict[str, Any]:
        return self.session.sandbox

    @property
    def sidecar(self) -> SidecarClient:
        """The direct client (blocking calls; wrap them in asyncio.to_thread)."""
        return self.session.sidecar

    async def __aenter__(self) -> Self:
        # A cancelled await does not stop the worker thread: whichever of the
        # two sides finishes second deletes what open() created.
        lock = threading.Lock()
        state = {"cancelled": False, "opened": False}

        def open_or_undo() -> None:
            self.session.open()
            with lock:
                state["opened"] = True
                undo = state["cancelled"]
            if undo:
                self.session.close(raise_errors=False)

        try:
            await asyncio.to_thread(open_or_undo)
        except asyncio.CancelledError:
            with lock:
                state["cancelled"] = True
                undo = state["opened"]
            if undo:
                self.session.close(raise_errors=False)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.shield(asyncio.to_thread(self.session.close, exc is None))

    async def execute(self, steps: Sequence[StepInput], timeout: Duration = "30s", **options: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self.session.execute, steps, timeout, **options)

