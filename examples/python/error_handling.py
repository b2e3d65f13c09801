# The manual's "Python SDK" error-handling example, verbatim except that
# `steps=[...]` is filled in: a script that fails, so the Failed branch runs.
# Needs the python-pool WarmPool: kubectl apply -f examples/quickstart/warmpool.yaml
from arl_client.session import SandboxSession

try:
    with SandboxSession("python-pool", namespace="default") as session:
        result = session.execute(
            steps=[
                {
                    "name": "write",
                    "type": "FilePatch",
                    "path": "/workspace/fail.py",
                    "content": "import sys\nprint('about to fail')\nsys.exit('something went wrong')\n"
                },
                {
                    "name": "run",
                    "type": "Command",
                    "command": ["python", "/workspace/fail.py"]
                }
            ],
            timeout="30s"
        )

        if result['status']['state'] == 'Failed':
            print(f"task failed: {result['status']['stderr']}")

except TimeoutError:
    print("task timed out")
except RuntimeError as e:
    print(f"execution error: {e}")
