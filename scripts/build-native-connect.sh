#!/usr/bin/env bash
# Builds the lab's native connect generator (load/native-connect, Go standard library only) into
# .tools/bin/ecm-connect. Idempotent: the binary carries the hash of the sources it was built
# from (`ecm-connect -version`), and a binary whose hash matches the sources is left alone.
# environments/tools/tools.ts computes the same hash for `ecm-lab doctor`: go.mod and every
# non-test .go file of the folder, in name order, concatenated, SHA-256, first 16 hex digits.
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

hash=$(cd "$SRC" && ls go.mod *.go | grep -v '_test\.go$' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)
if [ "${1:-}" = --hash ]; then echo "$hash"; exit 0; fi
command -v go >/dev/null || die "Go is required to build ecm-connect (not found on PATH)"
target="$BIN_DIR/ecm-connect"
if [ -x "$target" ] && [ "$("$target" -version 2>/dev/null || true)" = "ecm-connect $hash" ]; then
  say "ecm-connect $hash: installed"
  exit 0
fi
say "ecm-connect $hash: building with $(go version | cut -d' ' -f3)"
mkdir -p "$BIN_DIR"
# Built beside the target and renamed over it, so a failed build never leaves half a binary.
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.sourceHash=$hash" -o "$target.partial" .)
mv -f "$target.partial" "$target"
