#!/usr/bin/env bash
# Fails when a tracked file is over 5 MB: build outputs do not belong in git
# (binaries live under ignored folders such as bin/).
set -euo pipefail
cd "$(dirname "$0")/../.."
big=$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk '$1 > 5000000 {print $2 " (" $1 " bytes)"}')
if [ -n "$big" ]; then
  echo "tracked files over 5 MB (remove them and ignore their folder):" >&2
  echo "$big" >&2
  exit 1
fi
echo "no tracked file over 5 MB"
