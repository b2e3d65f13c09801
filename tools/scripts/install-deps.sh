#!/usr/bin/env bash
# Installs what ARL's build, local cluster and tests need on a fresh Debian
# machine (root): system tools from apt, and the Python SDK with its test
# extras in the project virtualenv .venv (stock Debian 12 and Ubuntu 23.04+
# refuse pip installs into the system Python, PEP 668). Everything Go comes
# from the Go module proxy at build time.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need=()
for pair in ip:iproute2 nsenter:util-linux unshare:util-linux script:bsdutils jq:jq curl:curl ps:procps pgrep:procps git:git make:make npm:npm python3:python3 runc:runc nft:nftables iptables:iptables dpkg-deb:dpkg apt-get:apt; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}"
  [ "$(id -u)" = 0 ] || die "need root to install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v go >/dev/null || die "Go 1.26 is required (https://go.dev/doc/install); it is preinstalled on ARL's machines"

# The project virtualenv; python3-venv (Debian's ensurepip) when missing.
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    step "apt-get install python3-venv"
    [ "$(id -u)" = 0 ] || die "need root to install python3-venv"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  step "python3 -m venv .venv"
  python3 -m venv "$VENV"
fi

# Reinstall unless the SDK imported is this checkout's (an editable install of
# another clone would test that clone's code) and its dependencies import
# (a new dependency in pyproject.toml needs a reinstall too).
sdk_dir=$("$VENV/bin/python" -c 'import os, arl_client, pytest, ruff, mypy, kubernetes_asyncio, pyqwest, aiohttp; print(os.path.dirname(os.path.dirname(os.path.realpath(arl_client.__file__))))' 2>/dev/null || true)
if [ "$sdk_dir" != "$(realpath "$ROOT/sdk/python/arl-client")" ]; then
  step "pip install -e sdk/python/arl-client[test,lint] into .venv"
  "$VENV/bin/python" -m pip install -q -e "$ROOT/sdk/python/arl-client[test,lint]"
fi
