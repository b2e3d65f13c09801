"""A file watch: react to what a process in the sandbox writes, as it writes it.

    python examples/file_watch.py --pool python-pool

Watches /workspace/out (recursively) while a background job writes a few
files into it, and prints each change as it is reported.
"""

from __future__ import annotations

import argparse

from arl_client import SandboxSession

JOB = "for i in 1 2 3; do sleep 0.2; echo $i > out/result-$i.txt; done; mkdir out/done"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", default="python-pool")
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()

    with SandboxSession(args.pool, namespace=args.namespace) as session:
        session.files.mkdir("out")
        with session.files.watch("out", recursive=True) as changes:
            job = session.spawn(JOB)
            for change in changes:
                print(f"{change.op.name.lower():<7} {change.path}", flush=True)
                if change.path.endswith("/done"):
                    break
            job.wait(timeout=30)
            job.close()
        for entry in session.files.list("out"):
            print(f"{entry.name}: {entry.size} bytes")


if __name__ == "__main__":
    main()
