#!/usr/bin/env bash
# Prints the path of a runnable Jaeger v2 binary on stdout; all logs go to stderr.
# Builds one from Go modules when none is cached in .cache/jaeger/<label>/jaeger.
# Used by `npm run jaeger:prepare` (scripts/jaeger-prepare.mjs), which shows its progress.
# The Go build serves no UI (a placeholder page): it is for the tests; to browse traces, use
# Jaeger's release binary or image (README).
set -euo pipefail

cd "$(dirname "$0")/.."
cache="$PWD/.cache/jaeger"
install_label=v2.20.0
install_commit=798e4b0fcf22609e381df764a01461affd813e1e
module_label=v2.12.0-module-v1.75.0
module_version=v1.75.0 # same commit as Jaeger v2.12.0: the approved v1.x tag of the module
ldvar=github.com/jaegertracing/jaeger/internal/version.latestVersion

log() { echo "build-jaeger: $*" >&2; }

runs() { [[ -x "$1" ]] && "$1" version >/dev/null 2>&1; }

for label in "$install_label" "$module_label"; do
  if runs "$cache/$label/jaeger"; then
    log "using cached $cache/$label/jaeger"
    echo "$cache/$label/jaeger"
    exit 0
  fi
done

if ! command -v go >/dev/null 2>&1; then
  log "error: 'go' not found on PATH; install Go >= 1.26 (https://go.dev/dl/) or set JAEGER_BIN"
  exit 1
fi

tmp="$(mktemp -d)"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# Preferred: the v2.20.0 commit. v2.x tags are not valid versions of this module path
# (no /v2 suffix), so it can only be addressed by commit hash.
log "trying go install github.com/jaegertracing/jaeger/cmd/jaeger@$install_commit ($install_label)"
# go's output goes to stderr as it comes (with GOFLAGS=-v, one line per package: the progress
# `npm run jaeger:prepare` shows) and to a log for the failure message.
if GOBIN="$tmp/bin" go install -ldflags "-X $ldvar=$install_label" \
  "github.com/jaegertracing/jaeger/cmd/jaeger@$install_commit" 2> >(tee "$tmp/install.log" >&2); then
  mkdir -p "$cache/$install_label"
  mv "$tmp/bin/jaeger" "$cache/$install_label/jaeger"
  log "built Jaeger $install_label via go install"
  echo "$cache/$install_label/jaeger"
  exit 0
fi
log "go install of $install_label failed: $(tail -n 2 "$tmp/install.log" | tr -s '\n\t' '  ')"

# Fallback: the module tag has a replace directive, which go install refuses, so build inside a
# writable copy of the downloaded module instead.
log "falling back to building ./cmd/jaeger inside module github.com/jaegertracing/jaeger@$module_version ($module_label)"
dir="$(go mod download -json "github.com/jaegertracing/jaeger@$module_version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[[ -d "$dir" ]] || { log "error: go mod download gave no module directory"; exit 1; }
cp -R "$dir" "$tmp/src"
chmod -R u+w "$tmp/src"
(cd "$tmp/src" && go build -ldflags "-X $ldvar=v2.12.0" -o "$tmp/jaeger" ./cmd/jaeger) >&2
mkdir -p "$cache/$module_label"
mv "$tmp/jaeger" "$cache/$module_label/jaeger"
log "built Jaeger v2.12.0 (module $module_version) because the $install_label commit could not be installed"
echo "$cache/$module_label/jaeger"
