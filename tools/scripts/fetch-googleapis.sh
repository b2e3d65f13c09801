#!/usr/bin/env bash
# Fetches google/api/annotations.proto and http.proto (imported by the sidecar
# proto for its REST paths) from the npm package google-proto-files into
# .third_party/googleapis, which buf reads as a dependency module. These files are
# Google's and are not committed; the Go code they describe comes from
# google.golang.org/genproto/googleapis/api.
set -euo pipefail
version=6.0.1
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/.third_party/googleapis"
stamp="$dest/.google-proto-files-$version"
[ -f "$stamp" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "google-proto-files@$version" >/dev/null)
tar -xzf "$tmp"/google-proto-files-*.tgz -C "$tmp"
rm -rf "$dest"
mkdir -p "$dest/google/api"
cp "$tmp/package/google/api/annotations.proto" "$tmp/package/google/api/http.proto" "$dest/google/api/"
touch "$stamp"
