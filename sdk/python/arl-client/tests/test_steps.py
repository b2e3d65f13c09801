import pytest

from arl_client.models import TaskStep
from arl_client.steps import build_steps

MANUAL_QUICK_STEPS = [
    {
        "name": "write_script",
        "type": "FilePatch",
        "path": "/workspace/hello.py",
        "content": "print('Hello from ARL!')",
    },
    {"name": "run_script", "type": "Command", "command": ["python", "/workspace/hello.py"]},
]


def test_manual_steps_pass_unchanged():
    assert build_steps(MANUAL_QUICK_STEPS) == MANUAL_QUICK_STEPS


def test_command_step_with_every_field():
    step = {
        "name": "run-script",
        "type": "Command",
        "command": ["python", "app.py"],
        "workDir": "/workspace",
        "env": {"DEBUG": "true", "API_KEY": "xyz"},
    }
    assert build_steps([step]) == [step]


def test_typed_models_are_accepted_and_dumped_with_crd_names():
    steps = [
        TaskStep(name="w", type="FilePatch", path="/workspace/a.txt", content="x"),
        TaskStep(name="r", type="Command", command=["cat", "a.txt"], work_dir="/workspace"),
    ]
    assert build_steps(steps) == [
        {"name": "w", "type": "FilePatch", "path": "/workspace/a.txt", "content": "x"},
        {"name": "r", "type": "Command", "command": ["cat", "a.txt"], "workDir": "/workspace"},
    ]


def test_snake_case_work_dir_is_accepted():
    built = build_steps([{"name": "r", "type": "Command", "command": ["ls"], "work_dir": "/tmp"}])
    assert built[0]["workDir"] == "/tmp"


def test_missing_names_are_filled_by_position():
    built = build_steps([{"type": "Command", "command": ["true"]}, {"type": "Command", "command": ["true"]}])
    assert [step["name"] for step in built] == ["step-1", "step-2"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "must not be empty"),
        ("echo hi", "must be a list"),
        ({"name": "a"}, "must be a list"),
        ([42], "want a dict or a TaskStep"),
        ([{"name": "a", "type": "Shell", "command": ["ls"]}], r"step 1 \(a\): type"),
        ([{"name": "a", "type": "Command", "command": "ls -l"}], r"step 1 \(a\): command"),
        ([{"name": "a", "type": "Command", "command": []}], "non-empty command"),
        ([{"name": "a", "type": "Command", "command": [""]}], "must not be empty"),
        ([{"name": "a", "type": "Command"}], "non-empty command"),
        ([{"name": "a", "type": "Command", "command": ["ls"], "working_dir": "/x"}],
         "unknown field.*working_dir"),
        ([{"name": "a", "type": "Command", "command": ["ls"], "workDir": "rel"}], "absolute"),
        ([{"name": "a", "type": "Command", "command": ["ls"], "env": {"N": 1}}], r"env\.N"),
        ([{"name": "a", "type": "Command", "command": ["ls"], "path": "/workspace/x"}],
         "does not take path"),
        ([{"name": "a", "type": "FilePatch", "content": "x"}], "needs a path"),
        ([{"name": "a", "type": "FilePatch", "path": "hello.py"}], "must be absolute"),
        ([{"name": "a", "type": "FilePatch", "path": "/w/x", "command": ["ls"]}], "does not take command"),
        ([{"name": "", "type": "Command", "command": ["ls"]}], "name"),
        ([{"name": "x" * 64, "type": "Command", "command": ["ls"]}], "name"),
        ([{"name": "a", "type": "Command", "command": ["ls"]}] * 2, "duplicate step name 'a'"),
        ([{"name": f"s{i}", "type": "Command", "command": ["ls"]} for i in range(101)], "at most 100"),
    ],
)
def test_invalid_steps_raise_value_error(steps, message):
    with pytest.raises(ValueError, match=message):
        build_steps(steps)


def test_error_names_the_position_of_the_bad_step():
    with pytest.raises(ValueError, match=r"^step 2 \(second\)"):
        build_steps([MANUAL_QUICK_STEPS[0], {"name": "second", "type": "Command", "command": "x"}])
