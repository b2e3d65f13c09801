"""``client.files`` on the async client: the asyncio twin of files.Files.

The checks, requests and tar helpers are shared with Files (see _files.py);
this module only does the awaiting.
"""

from __future__ import annotations

import asyncio
import tarfile
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from . import _direct, _files
from ._files import FileEvent
from ._proto.arl.sidecar.v1 import files_pb2 as fpb
from .exceptions import SidecarError
from .results import FileInfo, UploadFileResponse, UploadTarResponse

if TYPE_CHECKING:
    from .async_sidecar import AsyncSidecarClient

__all__ = ["AsyncFiles", "AsyncWatch"]

AsyncSource = _files.Source | AsyncIterable[bytes]


class AsyncFiles:
    """The files of one sandbox (awaitable calls); see files.Files."""

    def __init__(self, client: AsyncSidecarClient) -> None:
        self._client = client

    def _path(self, path: str, name: str = "path") -> str:
        return _files.path(path, self._client.roots, name)

    async def _streamed(self, operation: str, method: Callable[..., Any], request: Any) -> AsyncIterator[Any]:
        try:
            async for message in method(request, headers=self._client._headers):
                yield message
        except Exception as error:  # ConnectError or a broken connection
            raise _direct.sidecar_error(operation, error) from error

    async def write(self, path: str, content: bytes | str, mode: int = 0) -> int:
        """See Files.write."""
        return await self._client.write_file(self._path(path), content, _files.mode(mode))

    async def read(self, path: str, max_bytes: int = 0) -> bytes:
        """See Files.read."""
        return await self._client.read_file(self._path(path), max_bytes)

    async def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """See Files.read_text."""
        return (await self.read(path)).decode(encoding)

    async def list(self, path: str = ".", depth: int = 1) -> list[FileInfo]:
        """See Files.list."""
        request = fpb.ListDirRequest(path=self._path(path), depth=_files.depth(depth))
        response = await self._client._call("list_dir", self._client._client.list_dir, request)
        return [FileInfo.from_proto(entry) for entry in response.entries]

    async def stat(self, path: str) -> FileInfo:
        """See Files.stat."""
        request = fpb.StatRequest(path=self._path(path))
        response = await self._client._call("stat", self._client._client.stat, request)
        return FileInfo.from_proto(response.info)

    async def exists(self, path: str) -> bool:
        """See Files.exists."""
        try:
            await self.stat(path)
        except SidecarError as error:
            if error.code == "not_found":
                return False
            raise
        return True

    async def remove(self, path: str, recursive: bool = False) -> None:
        """See Files.remove."""
        request = fpb.RemoveRequest(path=self._path(path), recursive=recursive)
        await self._client._call("remove", self._client._client.remove, request)

    async def mkdir(self, path: str, parents: bool = True, mode: int = 0) -> bool:
        """See Files.mkdir."""
        request = fpb.MakeDirRequest(path=self._path(path), parents=parents, mode=_files.mode(mode))
        return bool((await self._client._call("make_dir", self._client._client.make_dir, request)).created)

    async def rename(self, source: str, destination: str, overwrite: bool = False) -> None:
        """See Files.rename."""
        request = fpb.RenameRequest(
            source_path=self._path(source, "source"),
            destination_path=self._path(destination, "destination"),
            overwrite=overwrite,
        )
        await self._client._call("rename", self._client._client.rename, request)

    async def watch(self, path: str = ".", recursive: bool = False) -> AsyncWatch:
        """See Files.watch: returns once the watch is in place."""
        request = fpb.WatchRequest(path=self._path(path), recursive=recursive)
        watch = AsyncWatch(self._streamed("watch", self._client._client.watch, request))
        await watch._started()
        return watch

    async def upload(self, path: str, source: AsyncSource, mode: int = 0) -> UploadFileResponse:
        """See Files.upload (``source`` may also be an async iterable of chunks)."""
        header = _files.upload_file_header(self._path(path), _files.mode(mode))

        async def requests() -> AsyncIterator[fpb.UploadFileRequest]:
            yield header
            async for chunk in _async_chunks(source):
                yield fpb.UploadFileRequest(data=chunk)

        response = await self._client._call("upload_file", self._client._client.upload_file, requests())
        return UploadFileResponse.from_proto(response)

    async def _download_chunks(self, request: fpb.DownloadFileRequest) -> AsyncIterator[bytes]:
        async for message in self._streamed("download_file", self._client._client.download_file, request):
            data = _files.download_data(message)
            if data is not None:
                yield data

    async def download(self, path: str, destination: str | Path | IO[bytes] | None = None) -> bytes | int:
        """See Files.download."""
        request = fpb.DownloadFileRequest(path=self._path(path))
        if destination is None:
            return b"".join([chunk async for chunk in self._download_chunks(request)])
        with _files.open_for_write(destination) as target:
            total = 0
            async for chunk in self._download_chunks(request):
                target.write(chunk)
                total += len(chunk)
            return total

    async def upload_tar(self, directory: str, tar_stream: AsyncSource) -> UploadTarResponse:
        """See Files.upload_tar."""
        header = _files.upload_tar_header(self._path(directory))

        async def requests() -> AsyncIterator[fpb.UploadTarRequest]:
            yield header
            async for chunk in _async_chunks(tar_stream):
                yield fpb.UploadTarRequest(data=chunk)

        response = await self._client._call("upload_tar", self._client._client.upload_tar, requests())
        return UploadTarResponse.from_proto(response)

    async def upload_dir(self, local_dir: str | Path, directory: str) -> UploadTarResponse:
        """See Files.upload_dir."""
        return await self.upload_tar(directory, _files.tar_chunks(Path(local_dir)))

    async def download_dir(self, path: str, local_dir: str | Path) -> int:
        """See Files.download_dir (the tar is spooled locally, then unpacked)."""
        request = fpb.DownloadTarRequest(path=self._path(path))
        with tempfile.SpooledTemporaryFile(max_size=_files.CHUNK_SIZE * 16) as spool:
            async for message in self._streamed("download_tar", self._client._client.download_tar, request):
                spool.write(message.data)
            spool.seek(0)
            with tarfile.open(fileobj=spool, mode="r|") as archive:
                count = 0
                for member in archive:
                    archive.extract(member, Path(local_dir), filter="data")
                    count += 1
        return count


class AsyncWatch:
    """A running ``files.watch`` on asyncio: ``async for event in watch``;
    ``await watch.close()`` (or leaving ``async with``) stops it."""

    def __init__(self, messages: AsyncIterator[Any]) -> None:
        self._messages = messages
        self._events: asyncio.Queue[FileEvent | None] = asyncio.Queue()
        self._ready = asyncio.Event()
        self._error: SidecarError | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def _started(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read())
        await self._ready.wait()
        if self._error is not None:
            raise self._error

    async def _read(self) -> None:
        try:
            async for message in self._messages:
                if _files.is_ready(message):
                    self._ready.set()
                event = _files.file_event(message)
                if event is not None:
                    self._events.put_nowait(event)
        except SidecarError as error:
            self._error = error
        finally:
            self._ready.set()
            self._events.put_nowait(None)

    async def close(self) -> None:
        """Stops watching (events not yet taken are dropped)."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[FileEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[FileEvent]:
        while True:
            event = await self.next()
            if event is None:
                return
            yield event

    async def next(self, timeout: float | None = None) -> FileEvent | None:
        """The next event, or None when the watch ended (or was closed) or ``timeout`` passed."""
        if self._closed:
            return None
        try:
            event = await asyncio.wait_for(self._events.get(), timeout)
        except TimeoutError:
            return None
        if event is None:
            self._events.put_nowait(None)
            if self._error is not None:
                raise self._error
        return event


async def _async_chunks(source: AsyncSource) -> AsyncIterator[bytes]:
    if isinstance(source, AsyncIterable):
        async for chunk in source:
            if chunk:
                yield bytes(chunk)
    else:
        for chunk in _files.source_chunks(source):
            yield chunk
