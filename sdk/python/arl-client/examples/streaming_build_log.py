"""A streaming build log: each line of a (slow) build printed as it happens.

    python examples/streaming_build_log.py --pool python-pool

``session.run`` calls ``on_stdout`` / ``on_stderr`` with every piece of
output as the process writes it, and returns the full result at the end.
"""

from __future__ import annotations

import argparse
import sys
import time

from arl_client import SandboxSession

BUILD = r"""
for step in compile link test package; do
  echo "[$step] started"
  sleep 0.3
  echo "[$step] warnings: 0" >&2
done
echo "build finished"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", default="python-pool")
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()

    with SandboxSession(args.pool, namespace=args.namespace) as session:
        started = time.perf_counter()

        def show(stream: str):
            def write(text: str) -> None:
                for line in text.splitlines():
                    print(f"{time.perf_counter() - started:6.2f}s {stream} | {line}", flush=True)
            return write

        result = session.run(BUILD, on_stdout=show("out"), on_stderr=show("err"), timeout=120)
    print(f"exit code {result.exit_code} after {result.duration_ms} ms")
    sys.exit(result.exit_code)


if __name__ == "__main__":
    main()
