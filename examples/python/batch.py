# The manual's "Python SDK" batch example, verbatim, plus the last two lines
# that print what the five tasks wrote.
# Needs the python-pool WarmPool: kubectl apply -f examples/quickstart/warmpool.yaml
from concurrent.futures import ThreadPoolExecutor
from arl_client.session import SandboxSession

def execute_task(task_id):
    with SandboxSession("python-pool", namespace="default") as session:
        result = session.execute([
            {
                "name": "write",
                "type": "FilePatch",
                "path": f"/workspace/task_{task_id}.py",
                "content": f"print('task {task_id} done')"
            },
            {
                "name": "run",
                "type": "Command",
                "command": ["python", f"/workspace/task_{task_id}.py"]
            }
        ])
        return result

# 5 tasks in parallel
with ThreadPoolExecutor(max_workers=3) as executor:
    futures = [executor.submit(execute_task, i) for i in range(5)]
    results = [f.result() for f in futures]

for result in results:
    print(result['status']['stdout'], end='')
