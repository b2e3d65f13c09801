"""The files API's logic, shared by Files and AsyncFiles: checked requests,
typed results, streaming chunkers and the mapping of watch events."""

from __future__ import annotations

import enum
import io
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import _direct
from ._proto.arl.sidecar.v1 import files_pb2 as fpb
from .exceptions import InvalidArgumentError

CHUNK_SIZE = 256 * 1024  # bytes per message of a streaming upload

Source = bytes | str | IO[bytes] | Iterable[bytes]


class FileType(enum.Enum):
    """The kind of a path (proto enum FileType)."""

    UNSPECIFIED = 0
    FILE = 1
    DIRECTORY = 2
    SYMLINK = 3
    OTHER = 4


class FileOp(enum.Enum):
    """What happened to a watched path (proto enum FileOp)."""

    UNSPECIFIED = 0
    CREATE = 1
    WRITE = 2
    REMOVE = 3
    RENAME = 4
    CHMOD = 5


@dataclass(frozen=True)
class FileEvent:
    """One change seen by ``files.watch``."""

    path: str
    op: FileOp


def path(value: str, roots: Sequence[str] | None, name: str = "path") -> str:
    return _direct.confined(value, roots, name=name)


def depth(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError("depth", f"invalid depth: want an integer >= 1, got {value!r}")
    return value


def mode(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o7777:
        raise InvalidArgumentError("mode", f"invalid mode: want 0 to 0o7777, got {value!r}")
    return value


def file_event(message: Any) -> FileEvent | None:
    """A FileEvent from a WatchResponse's change (None for the ready message)."""
    if message.WhichOneof("event") != "change":
        return None
    change = message.change
    try:
        op = FileOp(change.op)
    except ValueError:
        op = FileOp.UNSPECIFIED
    return FileEvent(path=change.path, op=op)


def upload_file_header(path: str, mode: int) -> fpb.UploadFileRequest:
    return fpb.UploadFileRequest(header=fpb.UploadFileHeader(path=path, mode=mode))


def upload_tar_header(path: str) -> fpb.UploadTarRequest:
    return fpb.UploadTarRequest(header=fpb.UploadTarHeader(path=path))


def download_data(message: Any) -> bytes | None:
    """The bytes of a DownloadFileResponse (None for its info message)."""
    if message.WhichOneof("event") == "data":
        return bytes(message.data)
    return None


def is_ready(message: Any) -> bool:
    return bool(message.WhichOneof("event") == "ready")


def chunks(content: bytes | str, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    data = _direct.as_bytes(content)
    for start in range(0, len(data), size):
        yield data[start : start + size]


def source_chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, str)):
        yield from chunks(bytes(source) if not isinstance(source, str) else source)
    elif hasattr(source, "read"):
        while True:
            chunk = source.read(CHUNK_SIZE)
            if not chunk:
                return
            yield bytes(chunk)
    else:
        for chunk in source:
            if chunk:
                yield bytes(chunk)


class ChunkWriter(io.RawIOBase):
    """A write-only file object that hands what is written to a queue of chunks."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.pending.append(bytes(data))
        return len(data)


def tar_chunks(local_dir: Path) -> Iterator[bytes]:
    """A local directory as a stream of tar chunks, built as it is sent."""
    if not local_dir.is_dir():
        raise FileNotFoundError(f"{local_dir} is not a directory")
    sink = ChunkWriter()
    with tarfile.open(fileobj=sink, mode="w|") as archive:
        for child in sorted(local_dir.rglob("*")):
            archive.add(child, arcname=str(child.relative_to(local_dir)), recursive=False)
            if sink.pending:
                yield b"".join(sink.pending)
                sink.pending.clear()
    if sink.pending:
        yield b"".join(sink.pending)


class ChunkReader(io.RawIOBase):
    """A read-only file object over an iterator of chunks (for tarfile's stream mode)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class open_for_write:  # noqa: N801 - used like open()
    def __init__(self, destination: str | Path | IO[bytes]) -> None:
        self._destination = destination
        self._owned: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self._destination, (str, Path)):
            self._owned = open(self._destination, "wb")  # noqa: SIM115 - closed in __exit__
            return self._owned
        return self._destination

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()
