#!/usr/bin/env python3
"""Measure what one pool pod's life (create -> Ready -> delete) costs.

Scales a WarmPool of arl-bench's shape up to N Ready pods and back to zero,
K times, against a running local cluster, and prints per pod:
  - apiserver requests by verb and resource (apiserver_request_total deltas;
    every client, not only the node),
  - the node's own requests (arl_node_api_requests_total, when the node
    exports it),
  - CPU ms of the node process, of its reaped children (pod-init, container
    processes, ip, nsenter), and of the control plane's processes,
  - CPU ms of the pods' live processes at the moment all were Ready, by kind.

Usage (from the repository root, cluster up):
  tools/node/scripts/pool-cost.py [--state-dir .state/local] [-n 20] [-k 3]
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def kubectl(state, *args, check=True, inp=None):
    env = dict(os.environ, KUBECONFIG=os.path.join(state, "kubeconfig"))
    r = subprocess.run(["bin/kubectl", *args], env=env, capture_output=True, text=True, input=inp)
    if check and r.returncode != 0:
        sys.exit(f"kubectl {' '.join(args)}: {r.stderr}")
    return r.stdout


def apiserver_requests(state):
    counts = collections.Counter()
    for line in kubectl(state, "get", "--raw", "/metrics").splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if labels["verb"] in ("WATCH", "CONNECT"):
            continue
        res = labels["resource"] + ("/" + labels["subresource"] if labels["subresource"] else "")
        counts[(labels["verb"], res)] += float(line.rsplit(" ", 1)[1])
    return counts


def node_metrics(port):
    counts = collections.Counter()
    if not port:
        return counts
    try:
        out = subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/metrics"], capture_output=True, text=True, timeout=5).stdout
    except subprocess.TimeoutExpired:
        return counts
    for line in out.splitlines():
        if line.startswith("arl_node_") and not line.startswith("#"):
            name, val = line.rsplit(" ", 1)
            counts[name] += float(val)
    return counts


def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11
    return {"ppid": int(fields[1]), "utime": int(fields[11]), "stime": int(fields[12]),
            "cutime": int(fields[13]), "cstime": int(fields[14])}


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def find_pid(path):
    """The process whose argv[0] is path."""
    for d in os.listdir("/proc"):
        argv = cmdline(d) if d.isdigit() else []
        if argv and argv[0].decode(errors="replace") == path:
            return int(d)
    return None


def descendants(root):
    children = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = stat(d)
            if s:
                children[s["ppid"]].append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in children[p]:
            out.append(c)
            todo.append(c)
    return out


def classify(argv):
    a = [x.decode(errors="replace") for x in argv]
    if len(a) > 1 and a[1] == "pod-init":
        return "pod-init"
    if len(a) > 1 and "arl-sidecar" in a[0]:
        return "sidecar " + a[1]
    return os.path.basename(a[0]) if a else "?"


def live_pod_cpu(node_pid):
    by = collections.Counter()
    n = collections.Counter()
    for p in descendants(node_pid):
        s = stat(p)
        if s:
            k = classify(cmdline(p))
            if "arl-operator" in b" ".join(cmdline(p)).decode(errors="replace"):
                continue
            by[k] += s["utime"] + s["stime"]
            n[k] += 1
    return by, n


def cpu_of(pid):
    s = stat(pid) if pid else None
    return (s["utime"] + s["stime"]) if s else 0


def wait(cond, what, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


POOL = """apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: {n}
  template:
    spec:
      containers:
      - {{name: executor, image: "python:3.9-slim", command: ["sleep", "infinity"]}}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", default=".state/local")
    ap.add_argument("-n", type=int, default=20, help="pods per cycle")
    ap.add_argument("-k", type=int, default=3, help="cycles")
    ap.add_argument("--pool", default="cost-pool")
    ap.add_argument("--node-metrics-port", default="")
    args = ap.parse_args()
    st = args.state_dir
    node_pid = int(open(os.path.join(st, "arl-node.pid")).read().split()[0])
    binDir = os.path.join(os.getcwd(), "bin")
    cp = {name: find_pid(os.path.join(binDir, b)) for name, b in [
        ("apiserver", "kube-apiserver"), ("etcd", "etcd"), ("operator", "arl-operator"),
        ("kcm", "kube-controller-manager"), ("scheduler", "kube-scheduler")]}

    def pool_pods():
        out = kubectl(st, "get", "pods", "-l", f"arl.infra.io/pool={args.pool}", "-o", "json")
        return json.loads(out)["items"]

    def ready_count():
        out = kubectl(st, "get", "warmpool", args.pool, "-o", "jsonpath={.status.readyReplicas}", check=False)
        return int(out or 0)

    kubectl(st, "apply", "-f", "-", inp=POOL.format(name=args.pool, n=0))
    wait(lambda: not pool_pods(), "pool empty")
    time.sleep(2)

    req0, nm0 = apiserver_requests(st), node_metrics(args.node_metrics_port)
    s0 = stat(node_pid)
    cp0 = {k: cpu_of(v) for k, v in cp.items()}
    live = collections.Counter()
    t0 = time.time()
    ready_secs = []
    for _ in range(args.k):
        t = time.time()
        kubectl(st, "patch", "warmpool", args.pool, "--type=merge", "-p", json.dumps({"spec": {"replicas": args.n}}))
        wait(lambda: ready_count() >= args.n, f"{args.n} ready")
        ready_secs.append(time.time() - t)
        by, _ = live_pod_cpu(node_pid)
        live += by
        kubectl(st, "patch", "warmpool", args.pool, "--type=merge", "-p", json.dumps({"spec": {"replicas": 0}}))
        wait(lambda: not pool_pods(), "pool empty")
    time.sleep(2)
    elapsed = time.time() - t0
    req1, nm1 = apiserver_requests(st), node_metrics(args.node_metrics_port)
    s1 = stat(node_pid)
    cp1 = {k: cpu_of(v) for k, v in cp.items()}
    kubectl(st, "delete", "warmpool", args.pool, check=False)

    pods = args.n * args.k
    ms = lambda ticks: 1000.0 * ticks / TICK / pods
    print(f"{pods} pod lifecycles in {elapsed:.1f}s; time to {args.n} Ready per cycle: "
          + ", ".join(f"{x:.1f}s" for x in ready_secs) + f"; load {os.getloadavg()}")
    print("\napiserver requests per pod (all clients, excluding WATCH):")
    for key in sorted(req1, key=lambda k: -(req1[k] - req0[k])):
        d = req1[key] - req0[key]
        if d >= 0.05 * pods:
            print(f"  {key[0]:7s} {key[1]:32s} {d / pods:6.2f}")
    if nm1:
        print("\nnode metrics per pod:")
        for key in sorted(nm1):
            d = nm1[key] - nm0.get(key, 0)
            if d and ("requests_total" in key or "cpu_seconds" in key):
                v = d / pods * (1000 if "seconds" in key else 1)
                print(f"  {key:90s} {v:8.2f}{' ms' if 'seconds' in key else ''}")
    print("\nCPU ms per pod:")
    print(f"  node process           {ms(s1['utime'] + s1['stime'] - s0['utime'] - s0['stime']):7.1f}")
    print(f"  node's reaped children {ms(s1['cutime'] + s1['cstime'] - s0['cutime'] - s0['cstime']):7.1f}")
    for k in cp:
        print(f"  {k:22s} {ms(cp1[k] - cp0[k]):7.1f}")
    print("\nlive pod processes at Ready, CPU ms per pod (included in reaped children):")
    for k, v in live.most_common():
        print(f"  {k:22s} {ms(v):7.1f}")


if __name__ == "__main__":
    main()
