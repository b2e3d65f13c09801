#!/usr/bin/env bash
# The manual's "Way 1" sequence (arl-infra-manual.md, "Way 1: the sidecar
# HTTP API"), command for command. The only changes: POD_IP comes from the
# environment instead of kubectl, the ports 8080/8000 and the /workspace
# directory may be replaced by free ones (SIDECAR_PORT, WEB_PORT, WORKSPACE),
# step 2 is retried until the server is up, and each response is printed on
# a line of its own after a STEP label for the test to check.
set -euo pipefail
POD_IP=${POD_IP:?}
SIDECAR_PORT=${SIDECAR_PORT:-8080}
WEB_PORT=${WEB_PORT:-8000}
WORKSPACE=${WORKSPACE:-/workspace}

# 1. Start a background process
echo -n "STEP1 "
curl -X POST http://${POD_IP}:${SIDECAR_PORT}/execute \
  -H "Content-Type: application/json" \
  -d '{
    "command": ["python", "-m", "http.server", "'"${WEB_PORT}"'"],
    "working_dir": "'"${WORKSPACE}"'",
    "background": true,
    "env": {
      "PYTHONUNBUFFERED": "1"
    }
  }'
echo

# 2. Interact with the background process: is the web server running?
for attempt in $(seq 1 50); do
  STEP2=$(curl -X POST http://${POD_IP}:${SIDECAR_PORT}/execute \
    -H "Content-Type: application/json" \
    -d '{
      "command": ["curl", "http://localhost:'"${WEB_PORT}"'"],
      "timeout_seconds": 5
    }')
  if [ "$(echo "$STEP2" | jq -r '.exit_code')" = 0 ]; then break; fi
  sleep 0.2
done
echo "STEP2 $STEP2"

# 3. Process status: list all running processes
echo -n "STEP3 "
curl -X POST http://${POD_IP}:${SIDECAR_PORT}/execute \
  -H "Content-Type: application/json" \
  -d '{
    "command": ["ps", "aux"]
  }'
echo

# 4. Stop the background process (Signal API)
# find the PID
PROCESS_PID=$(curl -X POST http://${POD_IP}:${SIDECAR_PORT}/execute \
  -H "Content-Type: application/json" \
  -d '{"command": ["pgrep", "-f", "http.server"]}' | jq -r '.stdout' | tr -d '\n')
echo "PID $PROCESS_PID"

# SIGTERM: graceful stop
echo -n "STEP4 "
curl -X POST http://${POD_IP}:${SIDECAR_PORT}/signal \
  -H "Content-Type: application/json" \
  -d "{
    \"pid\": ${PROCESS_PID},
    \"signal\": \"SIGTERM\"
  }"
echo

# See it gone (pgrep finds nothing: exit code 1).
for attempt in $(seq 1 50); do
  STEP5=$(curl -X POST http://${POD_IP}:${SIDECAR_PORT}/execute \
    -H "Content-Type: application/json" \
    -d '{"command": ["pgrep", "-f", "http.server"]}')
  if [ "$(echo "$STEP5" | jq -r '.exit_code')" = 1 ]; then break; fi
  sleep 0.1
done
echo "STEP5 $STEP5"
