"""The generated models against the manual's objects and the CRD schemas."""

from pathlib import Path

import pydantic
import pytest
import yaml

from arl_client.models import Sandbox, Task, TaskStep, WarmPool

CRD_DIR = Path(__file__).resolve().parents[4] / "operator" / "config" / "crd" / "bases"

WARMPOOL = {
    "apiVersion": "arl.infra.io/v1alpha1",
    "kind": "WarmPool",
    "metadata": {"name": "python-pool"},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "executor",
                        "image": "python:3.9-slim",
                        "command": ["sleep", "infinity"],
                        "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
                    }
                ],
                "volumes": [{"name": "workspace", "emptyDir": {}}],
            }
        },
    },
}
SANDBOX = {
    "apiVersion": "arl.infra.io/v1alpha1",
    "kind": "Sandbox",
    "metadata": {"name": "my-workspace"},
    "spec": {"poolRef": "python-pool", "keepAlive": True},
}
TASK = {
    "apiVersion": "arl.infra.io/v1alpha1",
    "kind": "Task",
    "metadata": {"name": "hello-task"},
    "spec": {
        "sandboxRef": "my-workspace",
        "timeout": "30s",
        "steps": [
            {
                "name": "write-code",
                "type": "FilePatch",
                "path": "/workspace/hello.py",
                "content": 'print("Hello from ARL!")\nprint("Task executed successfully")\n',
            },
            {"name": "run-code", "type": "Command", "command": ["python", "/workspace/hello.py"]},
        ],
    },
    "status": {
        "state": "Succeeded",
        "exitCode": 0,
        "stdout": "Hello from ARL!\nTask executed successfully\n",
        "stderr": "",
        "startTime": "2026-11-27T10:00:00Z",
        "steps": [{"name": "write-code", "state": "Succeeded", "exitCode": 0}],
    },
}


@pytest.mark.parametrize(("model", "obj"), [(WarmPool, WARMPOOL), (Sandbox, SANDBOX), (Task, TASK)])
def test_manual_objects_round_trip(model, obj):
    parsed = model.model_validate(obj)
    dumped = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert dumped == obj


def test_typed_access_uses_snake_case():
    task = Task.model_validate(TASK)
    assert task.spec.sandbox_ref == "my-workspace"
    assert task.spec.steps[1].command == ["python", "/workspace/hello.py"]
    assert task.status.exit_code == 0
    assert task.status.state == "Succeeded"
    assert WarmPool.model_validate(WARMPOOL).spec.template["spec"]["containers"][0]["name"] == "executor"


def test_defaults_come_from_the_crd():
    task = Task.model_validate({"spec": {"sandboxRef": "s", "steps": TASK["spec"]["steps"]}})
    assert task.spec.timeout == "30s"
    assert task.spec.retries == 0


@pytest.mark.parametrize(
    "bad_spec",
    [
        {"sandboxRef": "s", "steps": []},
        {"sandboxRef": "", "steps": TASK["spec"]["steps"]},
        {"sandboxRef": "s", "steps": TASK["spec"]["steps"], "retries": 11},
        {"steps": TASK["spec"]["steps"]},
    ],
)
def test_schema_constraints_are_enforced(bad_spec):
    with pytest.raises(pydantic.ValidationError):
        Task.model_validate({"spec": bad_spec})


def test_step_type_is_an_enum():
    with pytest.raises(pydantic.ValidationError):
        TaskStep.model_validate({"name": "a", "type": "Shell"})


def _properties(schema, path=()):
    for name, child in (schema.get("properties") or {}).items():
        yield (*path, name), child
        yield from _properties(child, (*path, name))
        if isinstance(child.get("items"), dict):
            yield from _properties(child["items"], (*path, name))


def _model_at(model, path):
    """The field aliases of the model class reached by following path."""
    current = model
    for part in path:
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:  # reported missing at its own level
            return None
        annotation = field.annotation
        current = next(
            (arg for arg in _flatten(annotation) if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel)),
            None,
        )
        if current is None:
            return None
    return {f.alias or n for n, f in current.model_fields.items()}


def _flatten(annotation):
    args = getattr(annotation, "__args__", None)
    if not args:
        yield annotation
        return
    for arg in args:
        yield from _flatten(arg)


@pytest.mark.parametrize(("model", "crd_file"), [
    (WarmPool, "arl.infra.io_warmpools.yaml"),
    (Sandbox, "arl.infra.io_sandboxes.yaml"),
    (Task, "arl.infra.io_tasks.yaml"),
])
def test_models_cover_every_crd_field(model, crd_file):
    """Fails when the CRD gained a field the committed models lack: run `make sdk-python`."""
    crd = yaml.safe_load((CRD_DIR / crd_file).read_text())
    schema = next(v for v in crd["spec"]["versions"] if v.get("storage"))["schema"]["openAPIV3Schema"]
    missing, checked = [], 0
    for path, _ in _properties(schema):
        fields = _model_at(model, path[:-1])
        if fields is not None:
            checked += 1
            if path[-1] not in fields:
                missing.append(".".join(path))
    assert checked >= 10
    assert not missing, f"models lack CRD fields {missing}: run `make sdk-python` and commit"
