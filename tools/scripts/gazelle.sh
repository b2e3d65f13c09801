#!/usr/bin/env bash
# Regenerates every BUILD.bazel file with gazelle, and the go_deps use_repo
# list in MODULE.bazel, without Bazel (it cannot run on our CI machines:
# docs/bazel.md). Offline once the Go module cache holds gazelle; a few
# seconds; running it twice changes nothing.
#
#   1. installs gazelle at the version MODULE.bazel's bazel_dep names (bin/gazelle);
#   2. reads go.work; every go.mod outside the root BUILD.bazel's
#      `gazelle:exclude` directories must be listed there, since Bazel's go_deps
#      sees only those;
#   3. writes `# gazelle:prefix <module path>` into each module's root BUILD.bazel;
#   4. runs gazelle as `bazel run //:gazelle` would (-bzlmod, -external=static)
#      with a repository config naming every required Go module the way go_deps
#      names its repositories, so no import is looked up on the network;
#   5. rewrites MODULE.bazel's use_repo block from the direct requirements;
#   6. fails if a BUILD file uses a Go module repository that use_repo lacks
#      (a go.mod that marks a directly imported module `// indirect`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

die() { echo "gazelle.sh: $*" >&2; exit 1; }
for tool in go jq git; do
	command -v "$tool" >/dev/null || die "needs '$tool' on PATH (jq: apt-get install jq)"
done

# --- 1. gazelle, pinned by MODULE.bazel --------------------------------------
gazelle_version=$(sed -n 's/^bazel_dep(name = "gazelle", version = "\([^"]*\)".*/\1/p' MODULE.bazel)
[ -n "$gazelle_version" ] || die 'MODULE.bazel has no bazel_dep(name = "gazelle", version = "...")'
codegen_version=$(GOWORK=off go mod edit -json tools/codegen/go.mod 2>/dev/null |
	jq -r '.Require // [] | .[] | select(.Path == "github.com/bazelbuild/bazel-gazelle") | .Version' || true)
if [ -n "$codegen_version" ] && [ "$codegen_version" != "v$gazelle_version" ]; then
	echo "gazelle.sh: warning: tools/codegen/go.mod pins gazelle $codegen_version, MODULE.bazel v$gazelle_version; using v$gazelle_version" >&2
fi
# `go install pkg@version` builds with gazelle's own go.mod, outside go.work.
# (gazelle v0.54.0 does not compile that way: its go.mod requires
# github.com/bazel-contrib/bazel-gazelle/v2 v2.0.0-3, whose update.Run takes the
# v1 language type; v0.53.0 builds.)
# The module cache is tried first as a file proxy, so this works offline once
# gazelle was downloaded (a plain `go install pkg@version` asks the proxy for
# deprecation notices even then).
modcache=$(go env GOMODCACHE)
GOPROXY="file://$modcache/cache/download,$(go env GOPROXY)" GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$root/bin" \
	go install "github.com/bazelbuild/bazel-gazelle/cmd/gazelle@v$gazelle_version" ||
	die "could not build gazelle v$gazelle_version from the Go module proxy"

# --- 2. the Go modules of go.work ----------------------------------------------
mapfile -t module_dirs < <(go work edit -json go.work | jq -r '.Use[].DiskPath | sub("^\\./"; "")' | LC_ALL=C sort)
[ "${#module_dirs[@]}" -gt 0 ] || die "go.work lists no modules"

mapfile -t excluded < <(sed -n 's/^# gazelle:exclude \(.*\)$/\1/p' BUILD.bazel)
is_excluded() {
	local dir=$1 pattern
	for pattern in "${excluded[@]}"; do
		pattern=${pattern//\*\*\//*}
		# shellcheck disable=SC2053 # the pattern is a glob on purpose
		if [[ $dir == $pattern || $dir == $pattern/* ]]; then return 0; fi
	done
	return 1
}
missing=()
while IFS= read -r gomod; do
	dir=$(dirname "$gomod")
	is_excluded "$dir" && continue
	printf '%s\n' "${module_dirs[@]}" | grep -qxF "$dir" || missing+=("$dir")
done < <(git ls-files --cached --others --exclude-standard -- 'go.mod' '*/go.mod')
if [ "${#missing[@]}" -gt 0 ]; then
	die "go.work does not use ${missing[*]}: add them (go work use ./DIR), or exclude them in BUILD.bazel"
fi

modules_json=$(for dir in "${module_dirs[@]}"; do
	go mod edit -json "$dir/go.mod" | jq --arg dir "$dir" '. + {Dir: $dir}'
done | jq -s .)

# go_deps' repository name for a Go module path (gazelle internal/bzlmod/go_deps.bzl, _repo_name).
jq_defs='
def repo_name:
  split("/") as $s
  | ([$s[0] | split(".") | reverse | .[]] + $s[1:]) | join("_")
  | gsub("-"; "_") | ascii_downcase | gsub("[^a-z0-9]"; "_");
def workspace_paths: [.[].Module.Path];
def external_requires: workspace_paths as $ws
  | [.[] | .Require // [] | .[] | select(.Path as $p | $ws | index([$p]) | not)];
'

# --- 3. per-module prefixes ------------------------------------------------------
for dir in "${module_dirs[@]}"; do
	path=$(jq -r --arg dir "$dir" '.[] | select(.Dir == $dir) | .Module.Path' <<<"$modules_json")
	build="$dir/BUILD.bazel"
	directive="# gazelle:prefix $path"
	if [ ! -f "$build" ]; then
		printf '%s\n' "$directive" >"$build"
	elif grep -q '^# gazelle:prefix ' "$build"; then
		grep -qxF "$directive" "$build" || sed -i "s|^# gazelle:prefix .*|$directive|" "$build"
	else
		sed -i "1i $directive" "$build"
	fi
done

# --- 4. gazelle ------------------------------------------------------------------
# go_deps applies gazelle's built-in per-module directives; the naming
# conventions among them decide the target names our BUILD files must use.
defaults="$modcache/github.com/bazelbuild/bazel-gazelle@v$gazelle_version/internal/bzlmod/default_gazelle_overrides.bzl"
[ -f "$defaults" ] || die "missing $defaults (gazelle's default go_deps overrides)"
naming_json=$(sed -n '/^DEFAULT_DIRECTIVES_BY_PATH = {/,/^}/p' "$defaults" | while IFS= read -r line; do
	if [[ $line =~ ^\ {4}\"([^\"]+)\":\ \[ ]]; then
		path=${BASH_REMATCH[1]}
	elif [[ $line =~ \"gazelle:go_naming_convention\ ([a-z_]+)\" ]]; then
		printf '{"%s": "%s"}\n' "$path" "${BASH_REMATCH[1]}"
	fi
done | jq -s 'add // {}')

repo_config=$(mktemp)
trap 'rm -f "$repo_config"' EXIT
jq -r --argjson naming "$naming_json" "$jq_defs"'
  [external_requires[].Path] | unique | .[]
  | "go_repository(name = \"\(repo_name)\", importpath = \"\(.)\""
    + (if $naming[.] then ", build_naming_convention = \"\($naming[.])\"" else "" end) + ")"
' <<<"$modules_json" >"$repo_config"

"$root/bin/gazelle" update \
	-repo_root="$root" \
	-bzlmod \
	-external=static \
	-repo_config="$repo_config" \
	-strict \
	"$root"

# --- 5. MODULE.bazel use_repo ------------------------------------------------------
# Direct requirements, plus modules providing a `tool`, as go_deps reports them.
mapfile -t direct_repos < <(jq -r "$jq_defs"'
  ([.[] | .Tool // [] | .[] | .Path]) as $tools
  | [external_requires[]
     | select((.Indirect | not) or (.Path as $p | $tools | any(. == $p or startswith($p + "/"))))
     | .Path | repo_name]
  | unique | .[]
' <<<"$modules_json")

begin='# BEGIN go_deps use_repo'
end='# END go_deps use_repo'
grep -q "^$begin" MODULE.bazel && grep -q "^$end" MODULE.bazel ||
	die "MODULE.bazel lacks the '$begin' ... '$end' markers"
block=$(mktemp)
trap 'rm -f "$repo_config" "$block"' EXIT
if [ "${#direct_repos[@]}" -gt 0 ]; then
	{
		echo "use_repo("
		echo "    go_deps,"
		printf '    "%s",\n' "${direct_repos[@]}"
		echo ")"
	} >"$block"
fi
awk -v begin="$begin" -v end="$end" -v block="$block" '
	index($0, begin) == 1 { print; skip = 1; next }
	skip && /^# / && index($0, end) != 1 { print; next }
	index($0, end) == 1 {
		while ((getline line < block) > 0) print line
		skip = 0
	}
	!skip { print }
' MODULE.bazel >MODULE.bazel.tmp
mv MODULE.bazel.tmp MODULE.bazel

# --- 6. every external repository a BUILD file uses is visible ----------------------
module_of() { # the go.work module directory holding a path
	local best="" dir
	for dir in "${module_dirs[@]}"; do
		if [[ $1 == "$dir"/* && ${#dir} -gt ${#best} ]]; then best=$dir; fi
	done
	echo "$best"
}
problems=()
while IFS= read -r build; do
	while IFS= read -r repo; do
		case $repo in rules_go | gazelle) continue ;; esac
		printf '%s\n' "${direct_repos[@]}" | grep -qxF "$repo" && continue
		dir=$(module_of "$build")
		problems+=("$(jq -r --arg repo "$repo" --arg dir "$dir" --arg build "$build" "$jq_defs"'
			(first(.[] | select(.Dir == $dir) | .Require // [] | .[] | select(.Path | repo_name == $repo)) // null) as $req
			| "  \($build) uses @\($repo), but \($dir)/go.mod "
			  + (if $req then "marks \($req.Path) // indirect" else "does not require it" end)
		' <<<"$modules_json")")
	done < <(grep -o '"@[a-z0-9_]*//' "$build" | sed 's/^"@//; s|//$||' | LC_ALL=C sort -u)
done < <(git ls-files --cached --others --exclude-standard -- 'BUILD.bazel' '*/BUILD.bazel')
if [ "${#problems[@]}" -gt 0 ]; then
	echo "gazelle.sh: Bazel could not build these: MODULE.bazel's use_repo (the direct requirements) lacks repositories BUILD files use:" >&2
	printf '%s\n' "${problems[@]}" >&2
	echo "gazelle.sh: run 'go mod tidy' in those modules, then this script again." >&2
	exit 1
fi
