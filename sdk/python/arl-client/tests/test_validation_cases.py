"""The SDK's early step check against the server's case table.

operator/internal/webhook/testdata/validation_cases.yaml lists valid and
invalid objects with the API server's verdict (the Go tests send every case
through a real kube-apiserver). For each Task case, build_steps must admit the
steps of every valid case, and reject exactly the cases whose ``sdk`` field
names its error: never stricter than the server, and the early catches are
written down next to the server's rule.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from arl_client.exceptions import InvalidArgumentError
from arl_client.steps import build_steps

TABLE = Path(__file__).resolve().parents[4] / "operator/internal/webhook/testdata/validation_cases.yaml"
_TOKEN = re.compile(r"^([A-Za-z][A-Za-z0-9]*)((?:\[[0-9]+\])*)$")


def _load() -> dict[str, Any]:
    with TABLE.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _tokens(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    for part in path.split("."):
        match = _TOKEN.match(part)
        assert match, f"bad field path {path!r}"
        tokens.append(match.group(1))
        tokens.extend(int(index) for index in re.findall(r"\[([0-9]+)\]", match.group(2)))
    return tokens


def _set(node: Any, tokens: list[str | int], value: Any) -> Any:
    """Sets value at tokens under node (None deletes a key, one past a list's end appends)."""
    if not tokens:
        return value
    head, rest = tokens[0], tokens[1:]
    if isinstance(head, str):
        mapping = {} if node is None else node
        if not rest and value is None:
            mapping.pop(head, None)
        else:
            mapping[head] = _set(mapping.get(head), rest, value)
        return mapping
    items = [] if node is None else node
    if head == len(items):
        items.append(_set(None, rest, value))
    else:
        items[head] = _set(items[head], rest, value)
    return items


def _case_object(table: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(table["bases"][case["kind"]])
    for path in sorted(case.get("set") or {}, key=_tokens):
        obj = _set(obj, _tokens(path), case["set"][path])
    return obj


TABLE_DATA = _load()
TASK_CASES = [case for case in TABLE_DATA["cases"] if case["kind"] == "Task"]


@pytest.mark.parametrize("case", TASK_CASES, ids=[case["name"] for case in TASK_CASES])
def test_build_steps_agrees_with_the_server(case: dict[str, Any]) -> None:
    steps = _case_object(TABLE_DATA, case)["spec"].get("steps", [])
    if not steps:
        pytest.raises(InvalidArgumentError, build_steps, steps)  # the SDK refuses an empty list too
        return
    if "sdk" in case:
        assert case.get("want"), "sdk marks a case the server denies"
        with pytest.raises(InvalidArgumentError) as caught:
            build_steps(steps)
        assert case["sdk"] in str(caught.value)
    else:
        assert build_steps(steps) == steps, "the SDK must leave these steps to the server unchanged"


def test_the_table_has_cases_the_sdk_catches_and_leaves() -> None:
    caught = [case for case in TASK_CASES if "sdk" in case]
    left = [case for case in TASK_CASES if case.get("want") and "sdk" not in case]
    assert caught and left
