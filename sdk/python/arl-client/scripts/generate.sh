#!/usr/bin/env bash
# Regenerates everything generated in the SDK (`make sdk-python` at the root):
#   arl_client/models/  pydantic models from operator/config/crd/bases/*.yaml
#   arl_client/_proto/  protobuf + Connect stubs from proto/arl/sidecar/v1
# The generators are pinned in scripts/requirements-codegen.txt and installed
# into .cache/codegen-venv on first use (needs PyPI and, for the googleapis
# protos, npm).
set -euo pipefail
sdk=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$sdk/../../.." && pwd)
venv="$sdk/.cache/codegen-venv"
requirements="$sdk/scripts/requirements-codegen.txt"
python=${PYTHON:-python3}

if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
  echo "arl-client: installing pinned generators into $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
export PATH="$venv/bin:$PATH"

echo "arl-client: models from operator/config/crd/bases" >&2
PYTHONWARNINGS=ignore::FutureWarning "$venv/bin/python" "$sdk/scripts/gen_models.py" \
  "$root/operator/config/crd/bases" "$sdk/arl_client/models"

echo "arl-client: protobuf + Connect stubs from proto/" >&2
"$root/tools/scripts/fetch-googleapis.sh"
proto_out="$sdk/arl_client/_proto"
rm -rf "$proto_out/arl"
(cd "$root" && buf generate --template "$sdk/buf.gen.python.yaml")
for dir in "$proto_out" "$proto_out/arl" "$proto_out/arl/sidecar" "$proto_out/arl/sidecar/v1"; do
  [ -f "$dir/__init__.py" ] || : > "$dir/__init__.py"
done
# protoc writes imports between files of the package as absolute `arl.sidecar.v1`
# imports; the stubs live inside arl_client._proto, so make them relative.
sed -i -E 's/^from arl\.sidecar\.v1 import /from . import /; s/^from arl\.sidecar\.v1\.([a-z_0-9]+) import /from .\1 import /' \
  "$proto_out"/arl/sidecar/v1/*.py "$proto_out"/arl/sidecar/v1/*.pyi

echo "arl-client: typed results (arl_client/results.py) from the sidecar proto" >&2
"$venv/bin/python" "$sdk/scripts/gen_results.py" "$sdk/arl_client/results.py"
