#!/usr/bin/env bash
# Prints the path of a runnable Jaeger v2 binary on stdout; all logs go to stderr.
# Builds one from Go modules when none is cached in .cache/jaeger/<label>/jaeger.
# Used by `npm run jaeger:prepare` (scripts/jaeger-prepare.mjs), which shows its progress.
# The Go build serves no UI (a placeholder page): it is for the tests; to browse traces, use
# Jaeger's release binary or image (README).
#
# Which Jaeger: v2.x tags are not valid versions of the module path (no /v2 suffix), so a release
# can only be had by commit hash, and the module proxy here refuses the v2.20.0 commit. The
# approved fallback is the module's v1.75.0 tag, the same commit as Jaeger v2.12.0.
set -euo pipefail

cd "$(dirname "$0")/.."
cache="$PWD/.cache/jaeger"
label=v2.12.0-module-v1.75.0
module_version=v1.75.0
ldvar=github.com/jaegertracing/jaeger/internal/version.latestVersion

log() { echo "build-jaeger: $*" >&2; }

runs() { [[ -x "$1" ]] && "$1" version >/dev/null 2>&1; }

if runs "$cache/$label/jaeger"; then
  log "using cached $cache/$label/jaeger"
  echo "$cache/$label/jaeger"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "error: 'go' not found on PATH; install Go >= 1.26 (https://go.dev/dl/) or set JAEGER_BIN"
  exit 1
fi

tmp="$(mktemp -d)"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# The module has a replace directive, which go install refuses: build inside a writable copy of
# the downloaded module instead.
log "building ./cmd/jaeger inside module github.com/jaegertracing/jaeger@$module_version (Jaeger v2.12.0)"
dir="$(go mod download -json "github.com/jaegertracing/jaeger@$module_version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[[ -d "$dir" ]] || { log "error: go mod download gave no module directory"; exit 1; }
cp -R "$dir" "$tmp/src"
chmod -R u+w "$tmp/src"
(cd "$tmp/src" && go build -ldflags "-X $ldvar=v2.12.0" -o "$tmp/jaeger" ./cmd/jaeger) >&2
mkdir -p "$cache/$label"
mv "$tmp/jaeger" "$cache/$label/jaeger"
log "built Jaeger v2.12.0 (module $module_version)"
echo "$cache/$label/jaeger"
