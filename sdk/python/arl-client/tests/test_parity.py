"""Every public sync method has an async twin with the same signature."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from arl_client.async_files import AsyncFiles
from arl_client.async_session import AsyncSandboxSession
from arl_client.async_sidecar import AsyncProcess, AsyncSidecarClient
from arl_client.files import Files
from arl_client.session import SandboxSession
from arl_client.sidecar import Process, SidecarClient

PAIRS = [
    (SandboxSession, AsyncSandboxSession),
    (SidecarClient, AsyncSidecarClient),
    (Process, AsyncProcess),
    (Files, AsyncFiles),
]
# Protocol methods whose twin has another name.
TWIN_DUNDERS = {"__enter__": "__aenter__", "__exit__": "__aexit__", "__iter__": "__aiter__"}


def public_members(cls):
    for name, _member in inspect.getmembers(cls):
        if name.startswith("_") and name not in TWIN_DUNDERS:
            continue
        yield name, inspect.getattr_static(cls, name)


def parameters(function):
    signature = inspect.signature(function)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_every_sync_method_has_an_async_twin_with_the_same_signature(sync_cls, async_cls):
    checked = 0
    for name, member in public_members(sync_cls):
        twin_name = TWIN_DUNDERS.get(name, name)
        assert hasattr(async_cls, twin_name), f"{async_cls.__name__} lacks {twin_name} (twin of {name})"
        twin = inspect.getattr_static(async_cls, twin_name)
        if isinstance(member, property):
            assert isinstance(twin, property), f"{async_cls.__name__}.{twin_name} should be a property"
            checked += 1
            continue
        if not callable(member) or name in TWIN_DUNDERS:
            continue
        if isinstance(member, (staticmethod, classmethod)):
            continue
        assert parameters(member) == parameters(twin), (
            f"{name}: {inspect.signature(member)} vs {inspect.signature(twin)}"
        )
        returns_iterator = name in ("execute_stream",)
        if not returns_iterator:
            assert inspect.iscoroutinefunction(twin), f"{async_cls.__name__}.{name} should be async"
        checked += 1
    assert checked >= 3


def test_the_constructors_match():
    for sync_cls, async_cls in PAIRS[:2]:
        assert parameters(sync_cls.__init__) == parameters(async_cls.__init__)


def test_import_is_cheap():
    """`import arl_client` does not load the Kubernetes or Connect clients."""
    code = (
        "import sys, arl_client; heavy = [m for m in ('kubernetes', 'kubernetes_asyncio', 'connectrpc', "
        "'pyqwest', 'pydantic', 'google.protobuf') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
