#!/usr/bin/env bash
# The manual's "Way 1": drive a background process through the sidecar's HTTP
# API. Usage: examples/curl/way1.sh [SANDBOX]   (default my-workspace)
#
# Sidecars require their sandbox's token unless the pool sets
# `sidecarAuth: None`; this script fetches it and adds the header. With a
# `sidecarAuth: None` pool the manual's curls work letter for letter.
set -euo pipefail
SANDBOX=${1:-my-workspace}
POD_IP=$(kubectl get sandbox "$SANDBOX" -o jsonpath='{.status.podIP}')
POD_NAME=$(kubectl get sandbox "$SANDBOX" -o jsonpath='{.status.podName}')
AUTH=()
if TOKEN=$(kubectl get secret "$POD_NAME" -o jsonpath='{.data.token}' 2>/dev/null | base64 -d) && [ -n "$TOKEN" ]; then
  AUTH=(-H "Authorization: Bearer $TOKEN")
fi

echo "== 1. start a background web server"
curl -sS -X POST "http://${POD_IP}:8080/execute" "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{
    "command": ["python", "-m", "http.server", "8000"],
    "working_dir": "/workspace",
    "background": true,
    "env": {
      "PYTHONUNBUFFERED": "1"
    }
  }'
echo
sleep 1

echo "== 2. is the web server running?"
curl -sS -X POST "http://${POD_IP}:8080/execute" "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{
    "command": ["curl", "http://localhost:8000"],
    "timeout_seconds": 5
  }' | jq '{exit_code, stdout_head: (.stdout[0:60])}'

echo "== 3. processes"
curl -sS -X POST "http://${POD_IP}:8080/execute" "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{
    "command": ["ps", "aux"]
  }' | jq -r '.stdout'

echo "== 4. stop it"
PROCESS_PID=$(curl -sS -X POST "http://${POD_IP}:8080/execute" "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d '{"command": ["pgrep", "-f", "http.server"]}' | jq -r '.stdout' | tr -d '\n')
curl -sS -X POST "http://${POD_IP}:8080/signal" "${AUTH[@]}" \
  -H "Content-Type: application/json" \
  -d "{
    \"pid\": ${PROCESS_PID},
    \"signal\": \"SIGTERM\"
  }"
echo
