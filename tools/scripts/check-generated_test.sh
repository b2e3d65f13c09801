#!/usr/bin/env bash
# Proves the BUILD-file part of the drift check (tools/scripts/check-generated.sh
# gazelle) in a throwaway copy of the repository: it passes on a regenerated
# tree, fails when Go code or a go.mod changes without regenerating, and passes
# again after tools/scripts/gazelle.sh.
#
# The copy holds the Bazel files, these scripts and the proto module only, so
# the result does not depend on the state of the other modules. Needs go (with bazel-gazelle in the module cache or the Go
# module proxy reachable), git and jq. Prints go-test-like lines and a summary.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
log="$work/out.log"
passed=0
failed=0

for tool in go git jq; do
	command -v "$tool" >/dev/null || { echo "check-generated_test: needs '$tool' on PATH" >&2; exit 1; }
done

git_q() { git -C "$repo" -c user.name=test -c user.email=test@example.invalid "$@" >/dev/null; }

# A fresh copy of the files the check needs (tracked and untracked, as in the
# working tree), regenerated once and committed.
setup() {
	rm -rf "$repo" && mkdir -p "$repo"
	(cd "$root" && git ls-files -z --cached --others --exclude-standard -- \
		MODULE.bazel WORKSPACE.bazel BUILD.bazel .bazelrc .bazelversion .bazelignore \
		tools/scripts proto ':!proto/**/BUILD.bazel' ':!proto/BUILD.bazel' |
		xargs -0 cp --parents -t "$repo")
	printf 'go 1.26.8\n\nuse ./proto\n' >"$repo/go.work"
	git_q init -q
	"$repo/tools/scripts/gazelle.sh" >"$log" 2>&1 || { cat "$log"; return 1; }
	git_q add -A
	git_q commit -q -m baseline
}

check() { "$repo/tools/scripts/check-generated.sh" gazelle >"$log" 2>&1; }
regenerate() { "$repo/tools/scripts/gazelle.sh" >"$log" 2>&1; }

fail() { echo "    $*"; sed 's/^/    | /' "$log" | head -n 40; return 1; }

run() {
	local name=$1 start=$SECONDS
	if setup && "$name"; then
		echo "--- PASS: $name ($((SECONDS - start))s)"
		passed=$((passed + 1))
	else
		echo "--- FAIL: $name ($((SECONDS - start))s)"
		failed=$((failed + 1))
	fi
}

TestRegeneratedTreePasses() {
	check || fail "check failed on a freshly regenerated tree" || return 1
	grep -q 'nothing changed' "$log" || fail "no OK line" || return 1
	grep -qxF '# gazelle:prefix github.com/arl-infra/arl/proto' "$repo/proto/BUILD.bazel" ||
		fail "proto/BUILD.bazel lacks the module's prefix directive"
}

TestGazelleTwiceChangesNothing() {
	regenerate || fail "gazelle.sh failed" || return 1
	local status
	status=$(git -C "$repo" status --porcelain --untracked-files=all)
	[ -z "$status" ] || { echo "$status" >"$log"; fail "second run changed files"; }
}

TestAddedImportWithoutRegeneratingFails() {
	local go="$repo/proto/gen/arl/sidecar/v1/sidecar.pb.go" build="proto/gen/arl/sidecar/v1/BUILD.bazel"
	grep -q 'com_connectrpc_connect' "$repo/$build" && { fail "$build already depends on connect"; return 1; }
	awk '{ print } /^package / && !done { print ""; print "import _ \"connectrpc.com/connect\""; done = 1 }' "$go" >"$go.new" &&
		mv "$go.new" "$go"
	grep -q '^import _ "connectrpc.com/connect"' "$go" || fail "could not add the import" || return 1
	check && { fail "check passed although $go gained an import"; return 1; }
	grep -qF " M $build" "$log" || fail "the failure does not name $build" || return 1
	regenerate || fail "gazelle.sh failed" || return 1
	grep -qF '"@com_connectrpc_connect//:connect"' "$repo/$build" || fail "$build lacks the new dependency" || return 1
	check || fail "check still fails after regenerating"
}

TestNewPackageWithoutBuildFileFails() {
	mkdir -p "$repo/proto/internal/drift"
	printf 'package drift\n\nimport _ "google.golang.org/protobuf/proto"\n' >"$repo/proto/internal/drift/drift.go"
	check && { fail "check passed although a package has no BUILD.bazel"; return 1; }
	grep -qF '?? proto/internal/drift/BUILD.bazel' "$log" || fail "the failure does not name the new BUILD.bazel" || return 1
	regenerate || fail "gazelle.sh failed" || return 1
	grep -qF '"@org_golang_google_protobuf//proto"' "$repo/proto/internal/drift/BUILD.bazel" ||
		fail "the new BUILD.bazel lacks the protobuf dependency" || return 1
	check || fail "check still fails after regenerating"
}

TestWorkspaceModuleImportResolvesLocally() {
	mkdir -p "$repo/demo/internal/use"
	printf 'module github.com/arl-infra/arl/demo\n\ngo 1.26.8\n' >"$repo/demo/go.mod"
	printf 'go 1.26.8\n\nuse (\n\t./demo\n\t./proto\n)\n' >"$repo/go.work"
	printf 'package use\n\nimport _ "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"\n' >"$repo/demo/internal/use/use.go"
	regenerate || fail "gazelle.sh failed" || return 1
	grep -qxF '# gazelle:prefix github.com/arl-infra/arl/demo' "$repo/demo/BUILD.bazel" ||
		fail "demo/BUILD.bazel lacks its prefix directive" || return 1
	local build="$repo/demo/internal/use/BUILD.bazel"
	grep -qF '"//proto/gen/arl/sidecar/v1:sidecar"' "$build" && grep -qF 'importpath = "github.com/arl-infra/arl/demo/internal/use"' "$build" ||
		{ cp "$build" "$log"; fail "the import did not resolve to the local proto package"; }
}

TestNewDirectRequirementUpdatesModuleBazel() {
	(cd "$repo/proto" && go mod edit -require=github.com/google/go-cmp@v0.7.0)
	check && { fail "check passed although proto/go.mod gained a direct requirement"; return 1; }
	grep -qF ' M MODULE.bazel' "$log" || fail "the failure does not name MODULE.bazel" || return 1
	regenerate || fail "gazelle.sh failed" || return 1
	grep -qxF '    "com_github_google_go_cmp",' "$repo/MODULE.bazel" || fail "use_repo lacks com_github_google_go_cmp" || return 1
	check || fail "check still fails after regenerating"
}

TestImportedIndirectRequirementFails() {
	sed -i 's|^\(\tconnectrpc.com/connect v[^ ]*\)$|\1 // indirect|' "$repo/proto/go.mod"
	grep -q 'connectrpc.com/connect .* // indirect' "$repo/proto/go.mod" || fail "could not edit proto/go.mod" || return 1
	regenerate && { fail "gazelle.sh passed although use_repo lacks a used repository"; return 1; }
	grep -qF 'uses @com_connectrpc_connect, but proto/go.mod marks connectrpc.com/connect // indirect' "$log" ||
		fail "the failure does not explain the untidy go.mod"
}

TestHandAddedAttributesSurvive() {
	local build="$repo/proto/gen/arl/sidecar/v1/BUILD.bazel"
	sed -i 's|^    importpath = "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1",$|&\n    tags = ["hand-added"],|' "$build"
	grep -qF 'tags = ["hand-added"],' "$build" || fail "could not edit $build" || return 1
	regenerate || fail "gazelle.sh failed" || return 1
	grep -qF 'tags = ["hand-added"],' "$build" || { cp "$build" "$log"; fail "gazelle dropped a hand-added attribute"; }
}

TestGoDepsNamingOverridesFollowed() {
	# go_deps generates github.com/google/cel-go with go_default_library names
	# (gazelle's built-in overrides); labels into it must use them.
	(cd "$repo/proto" && go mod edit -require=github.com/google/cel-go@v0.26.1)
	mkdir -p "$repo/proto/internal/cel"
	printf 'package cel\n\nimport _ "github.com/google/cel-go/cel"\n' >"$repo/proto/internal/cel/cel.go"
	regenerate || fail "gazelle.sh failed" || return 1
	grep -qF '"@com_github_google_cel_go//cel:go_default_library"' "$repo/proto/internal/cel/BUILD.bazel" ||
		{ cp "$repo/proto/internal/cel/BUILD.bazel" "$log"; fail "the label does not follow go_deps' naming for cel-go"; }
}

TestNewModuleJoinsBazelWork() {
	mkdir -p "$repo/stray/internal/x"
	printf 'module github.com/arl-infra/arl/stray\n\ngo 1.26.8\n' >"$repo/stray/go.mod"
	printf 'package x\n' >"$repo/stray/internal/x/x.go"
	check && { fail "check passed although stray/go.mod is missing from bazel.go.work"; return 1; }
	grep -qF ' M bazel.go.work' "$log" || fail "the failure does not name bazel.go.work" || return 1
	regenerate || fail "gazelle.sh failed" || return 1
	grep -qxF $'\t./stray' "$repo/bazel.go.work" || fail "bazel.go.work does not use ./stray" || return 1
	grep -qxF '# gazelle:prefix github.com/arl-infra/arl/stray' "$repo/stray/BUILD.bazel" ||
		fail "stray/BUILD.bazel lacks its prefix directive" || return 1
	check || fail "check still fails after regenerating"
}

for test in TestRegeneratedTreePasses TestGazelleTwiceChangesNothing \
	TestAddedImportWithoutRegeneratingFails TestNewPackageWithoutBuildFileFails \
	TestWorkspaceModuleImportResolvesLocally TestNewDirectRequirementUpdatesModuleBazel \
	TestImportedIndirectRequirementFails TestHandAddedAttributesSurvive \
	TestGoDepsNamingOverridesFollowed TestNewModuleJoinsBazelWork; do
	run "$test"
done
echo "check-generated_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
