"""``session.files`` / ``client.files``: the sandbox's files over the direct path.

    session.files.write("src/main.py", code)
    for entry in session.files.list("src", depth=2): print(entry.path, entry.size)
    session.files.upload("data.bin", open("data.bin", "rb"))      # streamed, any size
    session.files.download_dir("out", "./out")                     # a tar stream, unpacked locally
    with session.files.watch("src", recursive=True) as events:
        for event in events: print(event.op, event.path)

Paths are checked before anything is sent: absolute paths must be inside
the workspace, relative ones start at the workspace root (the sidecar checks
again, through symlinks). The logic shared with AsyncFiles is in _files.py.
"""

from __future__ import annotations

import queue
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from . import _direct, _files, _threads
from ._files import FileEvent, FileOp, FileType
from ._proto.arl.sidecar.v1 import files_pb2 as fpb
from .exceptions import SidecarError
from .results import FileInfo, UploadFileResponse, UploadTarResponse

if TYPE_CHECKING:
    from .sidecar import SidecarClient

__all__ = ["FileEvent", "FileInfo", "FileOp", "FileType", "Files", "Watch"]

Source = _files.Source


class Files:
    """The files of one sandbox (blocking calls)."""

    def __init__(self, client: SidecarClient) -> None:
        self._client = client

    def _path(self, path: str, name: str = "path") -> str:
        return _files.path(path, self._client.roots, name)

    def _streamed(self, operation: str, method: Any, request: Any) -> Iterator[Any]:
        try:
            yield from method(request, headers=self._client._headers)
        except Exception as error:  # ConnectError or a broken connection
            raise _direct.sidecar_error(operation, error) from error

    def write(self, path: str, content: bytes | str, mode: int = 0) -> int:
        """Writes a file atomically (parents created); returns its size."""
        return self._client.write_file(self._path(path), content, _files.mode(mode))

    def read(self, path: str, max_bytes: int = 0) -> bytes:
        """A file's content (up to ``max_bytes`` when > 0)."""
        return self._client.read_file(self._path(path), max_bytes)

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """A file's content decoded as text."""
        return self.read(path).decode(encoding)

    def list(self, path: str = ".", depth: int = 1) -> list[FileInfo]:
        """The entries of a directory, down to ``depth`` levels (symlinks listed, not followed)."""
        request = fpb.ListDirRequest(path=self._path(path), depth=_files.depth(depth))
        response = self._client._call("list_dir", self._client._client.list_dir, request)
        return [FileInfo.from_proto(entry) for entry in response.entries]

    def stat(self, path: str) -> FileInfo:
        """Describes one path (a final symlink is described, not followed)."""
        response = self._client._call("stat", self._client._client.stat, fpb.StatRequest(path=self._path(path)))
        return FileInfo.from_proto(response.info)

    def exists(self, path: str) -> bool:
        """True when the path exists."""
        try:
            self.stat(path)
        except SidecarError as error:
            if error.code == "not_found":
                return False
            raise
        return True

    def remove(self, path: str, recursive: bool = False) -> None:
        """Removes a file, a symlink or (``recursive``) a directory tree."""
        request = fpb.RemoveRequest(path=self._path(path), recursive=recursive)
        self._client._call("remove", self._client._client.remove, request)

    def mkdir(self, path: str, parents: bool = True, mode: int = 0) -> bool:
        """Makes a directory (and its parents); False when it already existed."""
        request = fpb.MakeDirRequest(path=self._path(path), parents=parents, mode=_files.mode(mode))
        return bool(self._client._call("make_dir", self._client._client.make_dir, request).created)

    def rename(self, source: str, destination: str, overwrite: bool = False) -> None:
        """Moves a file or directory (within one root)."""
        request = fpb.RenameRequest(
            source_path=self._path(source, "source"),
            destination_path=self._path(destination, "destination"),
            overwrite=overwrite,
        )
        self._client._call("rename", self._client._client.rename, request)

    def watch(self, path: str = ".", recursive: bool = False) -> Watch:
        """Watches a directory: returns once the watch is in place; iterate
        for FileEvents, close (or leave the ``with`` block) to stop."""
        request = fpb.WatchRequest(path=self._path(path), recursive=recursive)
        return Watch(self._client, request)

    def upload(self, path: str, source: Source, mode: int = 0) -> UploadFileResponse:
        """Streams ``source`` (bytes, str, a binary file object or an iterable
        of byte chunks) into a file of any size; it appears atomically at the end."""
        header = _files.upload_file_header(self._path(path), _files.mode(mode))

        def requests() -> Iterator[fpb.UploadFileRequest]:
            yield header
            for chunk in _files.source_chunks(source):
                yield fpb.UploadFileRequest(data=chunk)

        response = self._client._call("upload_file", self._client._client.upload_file, requests())
        return UploadFileResponse.from_proto(response)

    def _download_chunks(self, request: fpb.DownloadFileRequest) -> Iterator[bytes]:
        """Streams a file's content in chunks."""
        for message in self._streamed("download_file", self._client._client.download_file, request):
            data = _files.download_data(message)
            if data is not None:
                yield data

    def download(self, path: str, destination: str | Path | IO[bytes] | None = None) -> bytes | int:
        """A file's content: returned as bytes, or written to ``destination``
        (a local path or a binary file object; returns the byte count)."""
        request = fpb.DownloadFileRequest(path=self._path(path))
        if destination is None:
            return b"".join(self._download_chunks(request))
        with _files.open_for_write(destination) as target:
            total = 0
            for chunk in self._download_chunks(request):
                target.write(chunk)
                total += len(chunk)
            return total

    def upload_tar(self, directory: str, tar_stream: Source) -> UploadTarResponse:
        """Unpacks a tar (optionally gzip-compressed) stream into ``directory``."""
        header = _files.upload_tar_header(self._path(directory))

        def requests() -> Iterator[fpb.UploadTarRequest]:
            yield header
            for chunk in _files.source_chunks(tar_stream):
                yield fpb.UploadTarRequest(data=chunk)

        response = self._client._call("upload_tar", self._client._client.upload_tar, requests())
        return UploadTarResponse.from_proto(response)

    def _tar_chunks(self, request: fpb.DownloadTarRequest) -> Iterator[bytes]:
        """Streams a directory as an uncompressed tar."""
        for message in self._streamed("download_tar", self._client._client.download_tar, request):
            yield bytes(message.data)

    def upload_dir(self, local_dir: str | Path, directory: str) -> UploadTarResponse:
        """Copies a local directory into the sandbox (as one tar stream)."""
        return self.upload_tar(directory, _files.tar_chunks(Path(local_dir)))

    def download_dir(self, path: str, local_dir: str | Path) -> int:
        """Copies a sandbox directory to ``local_dir``; returns the members unpacked."""
        reader = _files.ChunkReader(self._tar_chunks(fpb.DownloadTarRequest(path=self._path(path))))
        with tarfile.open(fileobj=reader, mode="r|") as archive:
            count = 0
            for member in archive:
                archive.extract(member, Path(local_dir), filter="data")
                count += 1
        return count


class Watch:
    """A running ``files.watch``: iterate for FileEvents; ``close`` stops it."""

    def __init__(self, client: SidecarClient, request: Any) -> None:
        self._events: queue.SimpleQueue[FileEvent | None] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._error: SidecarError | None = None
        self._stream = client._client.watch(request, headers=client._headers)
        self._thread = _threads.start("arl-files-watch", self._read, stop=self.close)
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _read(self) -> None:
        try:
            for message in self._stream:
                if self._closed:
                    break  # ends the stream (a blocking read cannot be interrupted from here)
                if _files.is_ready(message):
                    self._ready.set()
                event = _files.file_event(message)
                if event is not None:
                    self._events.put(event)
        except Exception as error:  # ConnectError, a broken connection, or close()
            if not self._closed:
                self._error = _direct.sidecar_error("watch", error)
        finally:
            self._ready.set()
            self._events.put(None)

    _closed = False

    def close(self) -> None:
        """Stops watching (events not yet taken are dropped)."""
        self._closed = True
        self._events.put(None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[FileEvent]:
        while not self._closed:
            event = self._events.get()
            if event is None:
                self._events.put(None)
                if self._error is not None:
                    raise self._error
                return
            yield event

    def next(self, timeout: float | None = None) -> FileEvent | None:
        """The next event, or None when the watch ended (or was closed) or ``timeout`` passed."""
        if self._closed:
            return None
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        if event is None:
            self._events.put(None)
            if self._error is not None:
                raise self._error
        return event
