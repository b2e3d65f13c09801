#!/usr/bin/env bash
# Drift check: reruns every generator and fails, listing the files, when that
# changes anything git sees (a modified, deleted or new untracked file).
#
#   tools/scripts/check-generated.sh            # all steps
#   tools/scripts/check-generated.sh gazelle    # only the named steps
#
# Steps, in dependency order (gazelle last: it reads the Go the others write):
#   proto       make proto        buf lint + buf generate (proto/gen)
#   manifests   make manifests    operator CRDs, RBAC, deepcopy (controller-gen), copied into charts/arl
#   chart       make chart        helm lint + helm template renders (charts/testdata, operator/config/default)
#   sdk-python  make sdk-python   the Python SDK's generated code
#   api-docs    make api-docs     docs/user/api-reference.md (crd-ref-docs from operator/api)
#   gazelle     tools/scripts/gazelle.sh   BUILD.bazel files, MODULE.bazel use_repo
# A make step whose target does not exist yet is reported and not run.
#
# Files already dirty before the run are compared by content, so the check also
# works on a working tree with uncommitted changes; on CI's clean checkout any
# change is drift.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

all_steps=(proto manifests chart sdk-python api-docs gazelle)
steps=("$@")
[ "${#steps[@]}" -gt 0 ] || steps=("${all_steps[@]}")
for step in "${steps[@]}"; do
	printf '%s\n' "${all_steps[@]}" | grep -qxF "$step" ||
		{ echo "check-generated: unknown step '$step' (steps: ${all_steps[*]})" >&2; exit 2; }
done

# One line per file git reports as changed: "<blob hash or -> <path>".
snapshot() {
	local paths=()
	mapfile -d '' -t paths < <(git status --porcelain=v1 -z --untracked-files=all --no-renames | cut -z -c4-)
	[ "${#paths[@]}" -gt 0 ] || return 0
	local path files=()
	{
		for path in "${paths[@]}"; do
			if [ -f "$path" ]; then files+=("$path"); else printf -- '- %s\n' "$path"; fi
		done
		[ "${#files[@]}" -eq 0 ] ||
			paste -d ' ' <(printf '%s\n' "${files[@]}" | git hash-object --stdin-paths) <(printf '%s\n' "${files[@]}")
	} | LC_ALL=C sort
}

# Whether the Makefile gives TARGET a recipe or prerequisites (a name that is
# only listed in .PHONY does not count).
has_make_target() {
	{ make -pRrq : 2>/dev/null || true; } | awk -v target="$1" '
		index($0, target ":") == 1 { in_rule = 1; if ($0 ~ ":[ \t]*[^ \t=]") found = 1; next }
		in_rule && /^\t/ { found = 1 }
		in_rule && /^$/ { in_rule = 0 }
		END { exit !found }'
}

run_step() {
	case $1 in
	gazelle) tools/scripts/gazelle.sh ;;
	*)
		if has_make_target "$1"; then
			make "$1"
		else
			echo "check-generated: no '$1' make target yet; not checked"
		fi
		;;
	esac
}

before=$(snapshot)
failed_steps=()
for step in "${steps[@]}"; do
	echo "check-generated: $step"
	run_step "$step" || failed_steps+=("$step")
done
after=$(snapshot)

mapfile -t changed < <(diff <(echo "$before") <(echo "$after") | sed -n 's/^[<>] [^ ]* //p' | LC_ALL=C sort -u)
status=0
if [ "${#failed_steps[@]}" -gt 0 ]; then
	echo "check-generated: FAIL: these generators failed: ${failed_steps[*]} (see their output above)" >&2
	status=1
fi
if [ "${#changed[@]}" -gt 0 ]; then
	{
		echo "check-generated: FAIL: regenerating changed ${#changed[@]} file(s); run the generators (make generate gazelle) and commit the result:"
		for path in "${changed[@]}"; do
			code=$(git status --porcelain=v1 --untracked-files=all --no-renames -- "$path" | cut -c1-2)
			printf '  %s %s\n' "${code:-  }" "$path"
		done
		git --no-pager diff --no-color --stat -- "${changed[@]}" 2>/dev/null || true
		git --no-pager diff --no-color -- "${changed[@]}" 2>/dev/null | head -n 200 || true
	} >&2
	status=1
fi
[ "$status" -ne 0 ] || echo "check-generated: OK (${steps[*]}): nothing changed"
exit "$status"
