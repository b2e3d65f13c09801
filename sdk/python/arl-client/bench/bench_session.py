"""Latency of one trivial step: the Task path (session.execute) against the
direct path (session.sidecar.execute).

    python bench/bench_session.py [--pool python-pool] [--namespace default] [-n 200]

Needs a cluster with the ARL operator and the pool (KUBECONFIG; for the
local cluster: `make local-up` and KUBECONFIG=.state/local/kubeconfig).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from arl_client.session import SandboxSession

TRUE_STEP = [{"name": "true", "type": "Command", "command": ["true"]}]


def percentile(sorted_ms: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, round(fraction * len(sorted_ms)))
    return sorted_ms[min(rank, len(sorted_ms)) - 1]


def measure(label: str, call: Callable[[], object], runs: int, warmup: int) -> None:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    print(
        f"{label:<34} n={runs:<4} p50={percentile(samples, 0.50):8.2f} ms  "
        f"p90={percentile(samples, 0.90):8.2f} ms  p99={percentile(samples, 0.99):8.2f} ms  "
        f"mean={statistics.fmean(samples):8.2f} ms",
        flush=True,
    )


def check_task(result: dict) -> None:
    if result["status"]["state"] != "Succeeded":
        raise SystemExit(f"task did not succeed: {result['status']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", default="python-pool")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("-n", "--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    started = time.perf_counter()
    with SandboxSession(args.pool, namespace=args.namespace) as session:
        print(f"session open (sandbox {session.name} Ready) in {(time.perf_counter() - started) * 1000:.1f} ms")
        measure("Task path: session.execute(true)", lambda: check_task(session.execute(TRUE_STEP)),
                args.runs, args.warmup)
        sidecar = session.sidecar
        measure("direct: sidecar.execute(['true'])", lambda: sidecar.execute(["true"]), args.runs, args.warmup)
        measure("direct: sidecar.run_steps(true)", lambda: sidecar.run_steps(TRUE_STEP), args.runs, args.warmup)
        closing = time.perf_counter()
    print(f"session close (sandbox deleted and gone) in {(time.perf_counter() - closing) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
