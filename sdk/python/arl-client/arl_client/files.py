"""``client.files`` / ``session.files``: the sandbox's files over the direct path.

Paths are checked before anything is sent: absolute paths must be inside
the workspace, relative ones start at the workspace root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _direct

if TYPE_CHECKING:
    from .sidecar import SidecarClient


class Files:
    """The files of one sandbox (blocking calls)."""

    def __init__(self, client: SidecarClient) -> None:
        self._client = client

    def write(self, path: str, content: bytes | str, mode: int = 0) -> int:
        """Writes a file atomically (parents created); returns its size."""
        return self._client.write_file(_direct.confined(path, self._client.roots), content, mode)

    def read(self, path: str, max_bytes: int = 0) -> bytes:
        """A file's content (up to ``max_bytes`` when > 0)."""
        return self._client.read_file(_direct.confined(path, self._client.roots), max_bytes)

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """A file's content decoded as text."""
        return self.read(path).decode(encoding)
