"""An RL-style loop: many sandboxes at once on one asyncio event loop.

Each episode opens a sandbox, writes the "policy's" action (a small program)
into it, runs it with a timeout, scores the output and closes the sandbox.
All episodes run concurrently: no threads, one event loop.

    python examples/rl_loop.py --pool python-pool --episodes 100 [--concurrency 100]

The pool needs as many idle pods as episodes run at once for the fastest
start (a WarmPool with replicas >= concurrency); fewer pods only make
episodes wait for the pool to refill.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from arl_client import AsyncSandboxSession, SandboxTimeoutError


def policy(episode: int) -> tuple[int, str]:
    """The action of this episode: a guess, as a program that prints it."""
    guess = random.Random(episode).randint(0, 100)
    return guess, f"print({guess} * 2)\n"


async def episode(index: int, pool: str, namespace: str, limit: asyncio.Semaphore) -> float:
    guess, program = policy(index)
    async with limit, AsyncSandboxSession(pool, namespace=namespace, timeout="5m") as sandbox:
        await sandbox.files.write("action.py", program)
        result = await sandbox.run(["python", "action.py"], timeout=30)
    if result.exit_code != 0:
        return -1.0
    return 1.0 if int(result.stdout) == guess * 2 else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", default="python-pool")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()

    limit = asyncio.Semaphore(args.concurrency)
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(episode(i, args.pool, args.namespace, limit) for i in range(args.episodes)), return_exceptions=True
    )
    rewards = [o for o in outcomes if isinstance(o, float)]
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures[:3]:
        kind = "timeout" if isinstance(failure, SandboxTimeoutError) else type(failure).__name__
        print(f"episode failed ({kind}): {failure}")
    elapsed = time.perf_counter() - started
    print(f"{len(rewards)} episodes in {elapsed:.1f}s, mean reward {sum(rewards) / max(1, len(rewards)):.2f}, "
          f"{len(failures)} failed")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
