# The manual's "Python SDK" quick example, verbatim.
# Needs the python-pool WarmPool: kubectl apply -f examples/quickstart/warmpool.yaml
from arl_client.session import SandboxSession

# context manager (recommended)
with SandboxSession("python-pool", namespace="default") as session:
    result = session.execute([
        {
            "name": "write_script",
            "type": "FilePatch",
            "path": "/workspace/hello.py",
            "content": "print('Hello from ARL!')"
        },
        {
            "name": "run_script",
            "type": "Command",
            "command": ["python", "/workspace/hello.py"]
        }
    ])

    print(f"output: {result['status']['stdout']}")
    print(f"exit code: {result['status']['exitCode']}")
