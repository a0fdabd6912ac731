#!/usr/bin/env bash
# Builds the lab's native clients (the Go module load/native-connect, standard library only) into
# .tools/bin (or $ECM_LAB_TOOLS_BIN_DIR): ecm-connect (the connect generator) and ecm-device (the
# native device client). Idempotent: each binary carries the hash of the module's sources it was
# built from (`ecm-connect -version`, `ecm-device -version`), and a binary whose hash matches the
# sources is left alone. environments/tools/tools.ts computes the same hash for `ecm-lab doctor`:
# go.mod and every non-test .go file of the module, by relative path in byte order, concatenated,
# SHA-256, first 16 hex digits (one hash per module: the binaries share its internal packages).
#
#   scripts/build-native-connect.sh          (scripts/bootstrap.sh runs it)
#   scripts/build-native-connect.sh --hash   print the sources' hash and exit
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN_DIR=${ECM_LAB_TOOLS_BIN_DIR:-$ROOT/.tools/bin}
SRC=load/native-connect

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[bootstrap] error:\033[0m %s\n' "$*" >&2; exit 1; }

hash=$(cd "$SRC" && { echo go.mod; find . -name '*.go' ! -name '*_test.go' | sed 's|^\./||'; } | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)
if [ "${1:-}" = --hash ]; then echo "$hash"; exit 0; fi
command -v go >/dev/null || die "Go is required to build ecm-connect and ecm-device (not found on PATH)"
mkdir -p "$BIN_DIR"
build() { # name package
  local target="$BIN_DIR/$1"
  if [ -x "$target" ] && [ "$("$target" -version 2>/dev/null || true)" = "$1 $hash" ]; then
    say "$1 $hash: installed"
    return
  fi
  say "$1 $hash: building with $(go version | cut -d' ' -f3)"
  # Built beside the target and renamed over it, so a failed build never leaves half a binary.
  (cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.sourceHash=$hash" -o "$target.partial" "$2")
  mv -f "$target.partial" "$target"
}
build ecm-connect .
build ecm-device ./cmd/ecm-device
