"""The SDK's copies of the operator's contract constants match the Go API
package (operator/api/v1alpha1), read from its source: a reason, a state or
the token Secret's key renamed in Go fails here until the SDK follows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arl_client import _plan, verdicts

API_DIR = Path(__file__).resolve().parents[4] / "operator" / "api" / "v1alpha1"
_CONST = re.compile(r'^\s*(\w+)(?:\s+\w+)?\s*=\s*"([^"]*)"', re.MULTILINE)


def go_constants() -> dict[str, str]:
    sources = sorted(API_DIR.glob("*.go"))
    if not sources:
        pytest.fail(f"no Go sources in {API_DIR}: run the tests from the repository checkout")
    found: dict[str, str] = {}
    for path in sources:
        if path.name.startswith("zz_") or path.name.endswith("_test.go"):
            continue
        for name, value in _CONST.findall(path.read_text()):
            found[name] = value
    return found


@pytest.mark.parametrize(
    ("sdk_value", "go_name"),
    [
        (verdicts.SANDBOX_CONDITION_READY, "SandboxConditionReady"),
        (verdicts.SANDBOX_READY, "SandboxPhaseReady"),
        (verdicts.SANDBOX_FAILED, "SandboxPhaseFailed"),
        (verdicts.REASON_POOL_NOT_FOUND, "SandboxReasonPoolNotFound"),
        (verdicts.TASK_SUCCEEDED, "TaskStateSucceeded"),
        (verdicts.TASK_FAILED, "TaskStateFailed"),
        (verdicts.REASON_TIMEOUT, "TaskReasonTimeout"),
        (verdicts.REASON_STEP_FAILED, "TaskReasonStepFailed"),
        (verdicts.REASON_SANDBOX_NOT_FOUND, "TaskReasonSandboxNotFound"),
        (verdicts.REASON_SANDBOX_FAILED, "TaskReasonSandboxFailed"),
        (verdicts.REASON_OPERATOR_RESTARTED, "TaskReasonOperatorRestarted"),
        (_plan.SIDECAR_TOKEN_KEY, "SidecarTokenSecretKey"),
        (_plan.SANDBOX_LABEL, "LabelSandbox"),
        (_plan.POOL_LABEL, "LabelPool"),
        (_plan.SIDECAR_HTTP_PORT, "SidecarHTTPPort"),
    ],
)
def test_sdk_constant_matches_go(sdk_value: object, go_name: str) -> None:
    constants = go_constants()
    if go_name == "SidecarHTTPPort":
        match = re.search(r"\bSidecarHTTPPort\s*=\s*(\d+)", (API_DIR / "wellknown.go").read_text())
        assert match, "SidecarHTTPPort not found in wellknown.go"
        assert sdk_value == int(match.group(1))
        return
    assert go_name in constants, f"{go_name} is no longer a string constant in {API_DIR}"
    assert sdk_value == constants[go_name]


def test_infrastructure_failures_are_task_reasons() -> None:
    constants = go_constants()
    reasons = {v for k, v in constants.items() if k.startswith("TaskReason")}
    assert verdicts.INFRASTRUCTURE_FAILURES <= reasons


def test_token_secret_is_named_like_the_pod() -> None:
    """Go's SidecarTokenSecretName is the identity; so is the SDK's."""
    source = (API_DIR / "wellknown.go").read_text()
    match = re.search(r"func SidecarTokenSecretName\((\w+) string\) string \{ return (\w+) \}", source)
    assert match, "SidecarTokenSecretName changed shape in wellknown.go: update sidecar_token_secret_name"
    assert match.group(1) == match.group(2), "Go's SidecarTokenSecretName is no longer the pod's name"
    assert _plan.sidecar_token_secret_name("python-pool-abcde") == "python-pool-abcde"
