"""Test selection: unit tests by default; ``--integration`` adds the tests
marked ``integration`` (the local cluster with the ARL operator, and the real
sidecar binary). Without the option they are deselected, never skipped; with
it, a missing cluster makes them fail with what to run."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--integration",
        action="store_true",
        default=False,
        help="also run the integration tests (needs `make local-up` and KUBECONFIG)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--integration"):
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("integration") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
