"""Client-side validation of Task steps.

``execute`` takes the manual's step dicts (camelCase keys, as in the Task
YAML) or generated ``TaskStep`` models, and turns them into the JSON the
apiserver stores. Unknown keys, which the apiserver would prune silently (like
``working_dir``), fail here with a ValueError naming the step, and so do the
common mistakes the apiserver would reject, before any request. The server's
rules (CEL on the CRD) stay the authority: tests/test_validation_cases.py runs
the server's case table through ``build_steps``, which must admit every valid
case and reject only the cases the table says it catches early.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from .exceptions import InvalidArgumentError
from .models import TaskStep

MAX_STEPS = 100
StepInput = Mapping[str, Any] | TaskStep

# Keys a step dict may use: the CRD's camelCase names, plus the models'
# snake_case attribute names (populate_by_name).
_FIELDS = TaskStep.model_fields
_KNOWN_KEYS = {info.alias or name for name, info in _FIELDS.items()} | set(_FIELDS)
_COMMAND_ONLY = ("command", "workDir", "env")
_FILE_PATCH_ONLY = ("path", "content")


def build_steps(steps: Sequence[StepInput]) -> list[dict[str, Any]]:
    """Validates steps and returns them as Task.spec.steps JSON (camelCase).

    A step without a name is named ``step-<n>`` (1-based position).
    Raises InvalidArgumentError (a ValueError) on the first invalid step.
    """
    if isinstance(steps, (str, bytes, Mapping)) or not isinstance(steps, Sequence):
        raise InvalidArgumentError("steps", "steps must be a list of step dicts (or TaskStep models)")
    if not steps:
        raise InvalidArgumentError("steps", "steps must not be empty: give at least one FilePatch or Command step")
    if len(steps) > MAX_STEPS:
        raise InvalidArgumentError("steps", f"a task takes at most {MAX_STEPS} steps, got {len(steps)}")
    built = [_build_step(position, step) for position, step in enumerate(steps, start=1)]
    _check_unique_names(built)
    return built


def _build_step(position: int, step: StepInput) -> dict[str, Any]:
    if isinstance(step, TaskStep):
        model = step
    elif isinstance(step, Mapping):
        model = _validate_mapping(position, step)
    else:
        raise InvalidArgumentError("steps",
            f"step {position}: want a dict or a TaskStep, got {type(step).__name__}"
        )
    built = model.model_dump(by_alias=True, exclude_none=True)
    _check_semantics(position, built)
    return built


def _validate_mapping(position: int, step: Mapping[str, Any]) -> TaskStep:
    unknown = sorted(str(key) for key in step if key not in _KNOWN_KEYS)
    label = _label(position, step)
    if unknown:
        allowed = ", ".join(sorted(info.alias or name for name, info in _FIELDS.items()))
        raise InvalidArgumentError("steps", f"{label}: unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    data = dict(step)
    data.setdefault("name", f"step-{position}")
    try:
        return TaskStep.model_validate(data, strict=True)
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'step'}: {issue['msg']}"
            for issue in error.errors()
        )
        raise InvalidArgumentError("steps", f"{label}: {problems}") from None


def _check_semantics(position: int, step: dict[str, Any]) -> None:
    label = _label(position, step)
    if step["type"] == "FilePatch":
        path = step.get("path")
        if not path:
            raise InvalidArgumentError("steps", f"{label}: a FilePatch step needs a path")
        if not path.startswith("/"):
            raise InvalidArgumentError("steps", f"{label}: path {path!r} must be absolute (inside /workspace)")
        _forbid(label, step, _COMMAND_ONLY, "FilePatch")
    else:
        command = step.get("command")
        if not command:
            raise InvalidArgumentError("steps", f"{label}: a Command step needs a non-empty command (an argv list)")
        if not command[0]:
            raise InvalidArgumentError("steps", f"{label}: command[0] (the program) must not be empty")
        work_dir = step.get("workDir")
        if work_dir is not None and not work_dir.startswith("/"):
            raise InvalidArgumentError("steps", f"{label}: workDir {work_dir!r} must be an absolute path")
        _forbid(label, step, _FILE_PATCH_ONLY, "Command")


def _forbid(label: str, step: dict[str, Any], keys: tuple[str, ...], step_type: str) -> None:
    misplaced = [key for key in keys if step.get(key)]  # empty values are allowed, as on the server
    if misplaced:
        raise InvalidArgumentError("steps", f"{label}: a {step_type} step does not take {', '.join(misplaced)}")


def _check_unique_names(steps: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for position, step in enumerate(steps, start=1):
        if step["name"] in seen:
            raise InvalidArgumentError("steps", f"step {position}: duplicate step name {step['name']!r}")
        seen.add(step["name"])


def _label(position: int, step: Mapping[str, Any]) -> str:
    name = step.get("name")
    return f"step {position} ({name})" if isinstance(name, str) and name else f"step {position}"
