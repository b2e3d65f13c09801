"""Time to first command: what an agent waits for when it opens a sandbox and runs one thing.

    python bench/bench_first_command.py [--pool python-pool] [-n 20] [--connect-via pod-ip]

Each run opens a fresh SandboxSession on a warm pool and measures:

    open -> Ready                     SandboxSession.open() returns (the Sandbox is Ready)
    first direct exec after open      session.run(["true"]) right after open
    first Task after open             session.execute([true step]) right after open (second session)
    open + first direct exec + close  the whole life of a one-command session
    import arl_client                 a fresh interpreter importing the package (and SandboxSession)

and, for the floor under them, the same API calls with a bare Kubernetes
client and one watch (bench/floors.py):

    floor: bare Sandbox create -> Ready   API server + operator bind/status + watch event
    floor: bare Task create -> Succeeded  API server + operator dispatch + sidecar + watch event

so "SDK's share" = SDK step - floor. It also prints the CPU time the bench's
process (all its threads) spent on open + first direct exec + close: the
SDK's own cost, which the machine's load does not change much.

and prints p50 and p99 (nearest rank) over the runs, next to the goals of
issue 13. Needs a cluster with the ARL operator and the pool (KUBECONFIG).
The pool must have enough idle pods (the runs are paced on its readiness:
each waits until the pool is full again, then --settle seconds more, so that
the replacement pod's start, which on a one-machine cluster takes the same
cores as the SDK, ends before the next session opens; the claim of that
session still starts a replacement, as it would on any cluster).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable

from arl_client.session import SandboxSession

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import floors  # noqa: E402 - a module of this directory

TRUE_STEP = [{"name": "true", "type": "Command", "command": ["true"]}]
GOALS = {
    "open -> Ready": 15.0,
    "first direct exec after open": 10.0,
    "first Task after open": 25.0,
    "open + first direct exec + close": 60.0,
}


def percentile(sorted_ms: list[float], fraction: float) -> float:
    rank = max(1, round(fraction * len(sorted_ms)))
    return sorted_ms[min(rank, len(sorted_ms)) - 1]


def wait_for_idle_pod(custom: object, pool: str, namespace: str, timeout: float = 60.0, settle: float = 0.0) -> None:
    """Waits until the pool is full (all replicas Ready), then ``settle`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got: dict = custom.get_namespaced_custom_object(  # type: ignore[attr-defined]
            "arl.infra.io", "v1alpha1", namespace, "warmpools", pool
        )
        status = got.get("status") or {}
        if status.get("readyReplicas", 0) >= (got.get("spec") or {}).get("replicas", 1):
            time.sleep(settle)
            return
        time.sleep(0.1)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def import_time(runs: int) -> list[float]:
    code = (
        "import time; t = time.perf_counter(); import arl_client; a = time.perf_counter(); "
        "from arl_client import SandboxSession; b = time.perf_counter(); "
        "print((a - t) * 1000, (b - t) * 1000)"
    )
    plain, full = [], []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        first, second = done.stdout.split()
        plain.append(float(first))
        full.append(float(second))
    return plain, full  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", default="python-pool")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("-n", "--runs", type=int, default=20)
    parser.add_argument(
        "--settle", type=float, default=0.5, help="seconds to wait after the pool is full again (default 0.5)"
    )
    parser.add_argument("--connect-via", default=None, choices=("auto", "pod-ip", "port-forward"))
    args = parser.parse_args()

    from kubernetes import client

    from arl_client import kube

    custom = client.CustomObjectsApi(kube.new_api_client())
    samples: dict[str, list[float]] = {name: [] for name in GOALS}
    samples["first direct exec, later calls"] = []
    samples["floor: bare Sandbox create -> Ready"] = []
    samples["floor: bare Task create -> Succeeded"] = []
    cpu_name = "SDK CPU: open + first direct exec + close"
    samples[cpu_name] = []

    def session() -> SandboxSession:
        return SandboxSession(args.pool, namespace=args.namespace, connect_via=args.connect_via)

    # One session before the runs: loads the configuration and the pool check cache, as any agent's
    # second sandbox would find them.
    with session() as warm:
        warm.run(["true"])
    for _ in range(args.runs):
        wait_for_idle_pod(custom, args.pool, args.namespace, settle=args.settle)
        whole_started, cpu_started = time.perf_counter(), time.process_time()
        one = session()
        samples["open -> Ready"].append(timed(one.open))
        try:
            samples["first direct exec after open"].append(timed(lambda s=one: s.run(["true"])))
            samples["open + first direct exec + close"].append((time.perf_counter() - whole_started) * 1000)
            samples[cpu_name].append((time.process_time() - cpu_started) * 1000)
            for _ in range(5):
                samples["first direct exec, later calls"].append(timed(lambda s=one: s.run(["true"])))
        finally:
            cpu_close = time.process_time()
            close_ms = timed(one.close)
            cpu_close = time.process_time() - cpu_close
        samples["open + first direct exec + close"][-1] += close_ms
        samples[cpu_name][-1] += cpu_close * 1000

        wait_for_idle_pod(custom, args.pool, args.namespace, settle=args.settle)
        with session() as two:
            result: dict = {}
            samples["first Task after open"].append(timed(lambda s=two, r=result: r.update(s.execute(TRUE_STEP))))
            if result["status"]["state"] != "Succeeded":
                raise SystemExit(f"task did not succeed: {result['status']}")
            samples["floor: bare Task create -> Succeeded"].append(
                floors.task_finished_ms(custom, args.namespace, two.name)
            )

        wait_for_idle_pod(custom, args.pool, args.namespace, settle=args.settle)
        floor_ms = floors.sandbox_ready_ms(custom, args.namespace, args.pool)
        samples["floor: bare Sandbox create -> Ready"].append(floor_ms)

    plain, full = import_time(max(5, args.runs // 2))
    samples["import arl_client"] = plain
    samples["import arl_client + SandboxSession"] = full

    via = args.connect_via or os.environ.get("ARL_CONNECT_VIA") or "auto"
    print(
        f"\narl-client time to first command: {args.runs} runs, pool {args.pool}, connect_via={via}, "
        f"settle {args.settle:g} s\n"
    )
    width = max(len(name) for name in samples)
    print(f"| {'step':<{width}} | {'p50 ms':>8} | {'p99 ms':>8} | {'goal p50':>8} | n   |")
    print(f"|{'-' * (width + 2)}|{'-' * 10}|{'-' * 10}|{'-' * 10}|-----|")
    for name, values in samples.items():
        values.sort()
        goal = GOALS.get(name)
        goal_text = f"<= {goal:g}" if goal is not None else ""
        print(
            f"| {name:<{width}} | {percentile(values, 0.5):8.1f} | {percentile(values, 0.99):8.1f} "
            f"| {goal_text:>8} | {len(values):<3} |",
            flush=True,
        )
    def p50(name: str) -> float:
        return percentile(samples[name], 0.5)

    print(
        "\nSDK's share at p50: "
        f"open -> Ready {p50('open -> Ready') - p50('floor: bare Sandbox create -> Ready'):+.1f} ms over the floor, "
        f"first Task {p50('first Task after open') - p50('floor: bare Task create -> Succeeded'):+.1f} ms over it, "
        f"first direct exec {p50('first direct exec after open') - p50('first direct exec, later calls'):+.1f} ms "
        "over a later call"
    )


if __name__ == "__main__":
    main()
