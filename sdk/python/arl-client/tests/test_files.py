"""session.files (Files and AsyncFiles) against the real arl-sidecar process.

Every test runs twice: on the blocking Files and on AsyncFiles (each
coroutine run to completion on one event loop kept for the test)."""

from __future__ import annotations

import asyncio
import gzip
import io
import tarfile
import time

import pytest

from arl_client.async_sidecar import AsyncSidecarClient
from arl_client.exceptions import InvalidArgumentError, SidecarError
from arl_client.files import FileOp, FileType
from arl_client.sidecar import SidecarClient

from .sidecar_process import start_sidecar, stop_sidecar

BIG = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: several upload chunks


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    logs = tmp_path_factory.mktemp("logs")
    running = start_sidecar(workspace, "files-test-token", logs / "sidecar.log")
    yield running
    stop_sidecar(running)


class Blocking:
    """An AsyncFiles (or AsyncWatch) whose coroutines are run to completion, so
    one test body drives both flavours."""

    def __init__(self, target, runner: asyncio.Runner) -> None:
        self._target = target
        self._runner = runner

    def __getattr__(self, name):
        method = getattr(self._target, name)

        def call(*args, **kwargs):
            result = self._runner.run(method(*args, **kwargs))
            if type(result).__name__ == "AsyncWatch":
                return Blocking(result, self._runner)
            return result

        return call

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture(params=["sync", "async"])
def files(request, server):
    roots = [str(server.workspace)]
    if request.param == "sync":
        with SidecarClient(server.url, token=server.token, roots=roots) as client:
            yield client.files
        return
    with asyncio.Runner() as runner:
        client = AsyncSidecarClient(server.url, token=server.token, roots=roots)
        yield Blocking(client.files, runner)
        runner.run(client.close())


@pytest.fixture
def base(request, server):
    """A fresh directory (relative to the workspace) per test and flavour."""
    name = request.node.name.replace("[", "-").replace("]", "")
    return name


def test_mkdir_stat_list_rename_remove(files, server, base):
    assert files.mkdir(f"{base}/a/b") is True
    assert files.mkdir(f"{base}/a/b") is False
    files.write(f"{base}/a/one.txt", "1")
    files.write(f"{base}/a/b/two.txt", "22", mode=0o600)

    info = files.stat(f"{base}/a/b/two.txt")
    assert (info.name, info.size, info.mode & 0o777, FileType(info.type)) == ("two.txt", 2, 0o600, FileType.FILE)
    assert info.path == str(server.workspace / base / "a" / "b" / "two.txt")
    assert FileType(files.stat(f"{base}/a").type) == FileType.DIRECTORY

    assert sorted(entry.name for entry in files.list(f"{base}/a")) == ["b", "one.txt"]
    deep = files.list(f"{base}/a", depth=2)
    assert sorted(entry.path.removeprefix(str(server.workspace / base)) for entry in deep) == [
        "/a/b", "/a/b/two.txt", "/a/one.txt",
    ]

    files.rename(f"{base}/a/one.txt", f"{base}/a/b/one.txt")
    assert (server.workspace / base / "a" / "b" / "one.txt").read_text() == "1"
    assert files.exists(f"{base}/a/one.txt") is False
    files.write(f"{base}/a/three.txt", "3")
    with pytest.raises(SidecarError):
        files.rename(f"{base}/a/three.txt", f"{base}/a/b/one.txt")
    files.rename(f"{base}/a/three.txt", f"{base}/a/b/one.txt", overwrite=True)
    assert files.read_text(f"{base}/a/b/one.txt") == "3"

    with pytest.raises(SidecarError):
        files.remove(f"{base}/a")  # not empty, not recursive
    files.remove(f"{base}/a/b/one.txt")
    files.remove(f"{base}/a", recursive=True)
    assert not (server.workspace / base / "a").exists()
    with pytest.raises(SidecarError) as missing:
        files.stat(f"{base}/a")
    assert missing.value.code == "not_found"


def test_upload_and_download_stream_any_size(files, server, base, tmp_path):
    done = files.upload(f"{base}/big.bin", BIG, mode=0o640)
    assert (done.size, done.path) == (len(BIG), str(server.workspace / base / "big.bin"))
    assert (server.workspace / base / "big.bin").read_bytes() == BIG
    assert files.stat(f"{base}/big.bin").mode & 0o777 == 0o640

    assert files.upload(f"{base}/from-file.bin", io.BytesIO(BIG)).size == len(BIG)
    assert files.upload(f"{base}/chunks.txt", [b"ab", b"", b"cd"]).size == 4
    assert files.read(f"{base}/chunks.txt") == b"abcd"

    assert files.download(f"{base}/from-file.bin") == BIG
    local = tmp_path / "copy.bin"
    assert files.download(f"{base}/big.bin", local) == len(BIG)
    assert local.read_bytes() == BIG
    sink = io.BytesIO()
    assert files.download(f"{base}/chunks.txt", sink) == 4
    assert sink.getvalue() == b"abcd"

    with pytest.raises(SidecarError) as missing:
        files.download(f"{base}/nope.bin")
    assert missing.value.code == "not_found"


def test_directories_go_in_and_out_as_tar(files, server, base, tmp_path):
    source = tmp_path / "src"
    (source / "pkg" / "sub").mkdir(parents=True)
    (source / "README").write_text("readme")
    (source / "pkg" / "sub" / "data.bin").write_bytes(BIG)
    (source / "pkg" / "link").symlink_to("sub/data.bin")

    done = files.upload_dir(source, f"{base}/tree")
    assert (done.files, done.directories, done.links) == (2, 2, 1)
    assert done.bytes == len(BIG) + len("readme")
    assert (server.workspace / base / "tree" / "pkg" / "sub" / "data.bin").read_bytes() == BIG

    out = tmp_path / "out"
    assert files.download_dir(f"{base}/tree", out) >= 5
    assert (out / "README").read_text() == "readme"
    assert (out / "pkg" / "sub" / "data.bin").read_bytes() == BIG
    assert (out / "pkg" / "link").readlink().as_posix() == "sub/data.bin"

    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as archive:
        member = tarfile.TarInfo("hello.txt")
        member.size = 5
        archive.addfile(member, io.BytesIO(b"hello"))
    gzipped = gzip.compress(packed.getvalue())
    assert files.upload_tar(f"{base}/gz", gzipped).files == 1
    assert (server.workspace / base / "gz" / "hello.txt").read_text() == "hello"

    escaping = io.BytesIO()
    with tarfile.open(fileobj=escaping, mode="w") as archive:
        member = tarfile.TarInfo("../../escape.txt")
        member.size = 1
        archive.addfile(member, io.BytesIO(b"x"))
    with pytest.raises(SidecarError):
        files.upload_tar(f"{base}/bad", escaping.getvalue())
    assert not (server.workspace.parent / "escape.txt").exists()


def test_watch_reports_changes_until_closed(files, server, base):
    files.mkdir(f"{base}/w")
    with files.watch(f"{base}/w", recursive=True) as watch:
        (server.workspace / base / "w" / "new.txt").write_text("x")
        seen = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            event = watch.next(timeout=1)
            if event is not None:
                seen.append((event.op, event.path))
                if event.op == FileOp.CREATE:
                    break
        assert (FileOp.CREATE, str(server.workspace / base / "w" / "new.txt")) in seen
        watch.close()
        assert watch.next(timeout=5) is None  # closed: the watch ends

    with pytest.raises(SidecarError) as missing:
        files.watch(f"{base}/not-there")
    assert missing.value.code == "not_found"


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("list", ("/etc",)),
        ("stat", ("/etc/passwd",)),
        ("remove", ("/tmp/x",)),
        ("mkdir", ("/tmp/x",)),
        ("rename", ("in.txt", "/tmp/out.txt")),
        ("rename", ("/tmp/in.txt", "out.txt")),
        ("watch", ("/etc",)),
        ("upload", ("/tmp/x", b"data")),
        ("download", ("/etc/passwd",)),
        ("upload_tar", ("/tmp", b"")),
        ("download_dir", ("/etc", "local")),
        ("list", ("a/../../etc",)),
    ],
)
def test_paths_outside_the_workspace_fail_before_sending(call, args, request, server):
    """The clients point at a port nothing listens on: a call that sent would
    fail with SidecarError (unavailable), not InvalidArgumentError."""
    roots = [str(server.workspace)]
    with SidecarClient("http://127.0.0.1:9", token="t", roots=roots) as client:
        with pytest.raises(InvalidArgumentError):
            getattr(client.files, call)(*args)

    async def async_call():
        async with AsyncSidecarClient("http://127.0.0.1:9", token="t", roots=roots) as client:
            await getattr(client.files, call)(*args)

    with pytest.raises(InvalidArgumentError):
        asyncio.run(async_call())


def test_bad_depth_and_mode_fail_before_sending(server):
    with SidecarClient("http://127.0.0.1:9", token="t", roots=[str(server.workspace)]) as client:
        with pytest.raises(InvalidArgumentError):
            client.files.list(".", depth=0)
        with pytest.raises(InvalidArgumentError):
            client.files.mkdir("d", mode=0o100000)
