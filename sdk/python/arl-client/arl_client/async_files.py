"""``client.files`` on the async client: the asyncio twin of files.Files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _direct

if TYPE_CHECKING:
    from .async_sidecar import AsyncSidecarClient


class AsyncFiles:
    """The files of one sandbox (awaitable calls); see files.Files."""

    def __init__(self, client: AsyncSidecarClient) -> None:
        self._client = client

    async def write(self, path: str, content: bytes | str, mode: int = 0) -> int:
        """See Files.write."""
        return await self._client.write_file(_direct.confined(path, self._client.roots), content, mode)

    async def read(self, path: str, max_bytes: int = 0) -> bytes:
        """See Files.read."""
        return await self._client.read_file(_direct.confined(path, self._client.roots), max_bytes)

    async def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """See Files.read_text."""
        return (await self.read(path)).decode(encoding)
