#!/usr/bin/env bash
# Installs every tool the lab needs, pinned to the versions in environments/tools/versions.json.
# Idempotent: each step checks what is already there and does nothing when it matches the pin.
#
#   scripts/bootstrap.sh            npm packages, Debian packages, step-ca, step and ecm-connect
#   ECM_LAB_SKIP_APT=1 ...          skip Debian packages (when they are managed elsewhere)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
VERSIONS=environments/tools/versions.json
BIN_DIR=${ECM_LAB_TOOLS_BIN_DIR:-$ROOT/.tools/bin}

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[bootstrap] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Two bootstraps at once in one checkout run `npm ci` over each other (one removes the directories
# the other is building). The second waits for the first, then finds everything installed.
command -v flock >/dev/null || die "flock (util-linux) is required (not found on PATH)"
mkdir -p .tools
exec 9>.tools/bootstrap.lock
if ! flock -n 9; then
  say "another bootstrap of this checkout is running: waiting for it to finish"
  flock 9
fi

# --- Node.js ------------------------------------------------------------------------------
command -v node >/dev/null || die "Node.js 20 or newer is required (not found on PATH)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required (found $(node --version))"
pin() { node -p "const v=require('./$VERSIONS'); $1"; }

# --- npm packages (from the committed lockfile) --------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.ecm-lab-lock-hash 2>/dev/null || true)" = "$lock_hash" ]; then
  say "npm packages: up to date"
else
  say "npm packages: npm ci"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.ecm-lab-lock-hash
fi

# --- Debian packages ----------------------------------------------------------------------
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "installing Debian packages needs root or sudo: $*"; fi
}
if [ "${ECM_LAB_SKIP_APT:-}" = 1 ]; then
  say "Debian packages: skipped (ECM_LAB_SKIP_APT=1)"
else
  # Debian keeps only the newest security build of these; when the pin has been superseded, the
  # current build is installed instead, and said so.
  rolling=" $(pin '(v.debianRolling || []).join(" ")') "
  wanted=()
  for pkg in $(pin 'Object.keys(v.debian).join(" ")'); do
    version=$(pin "v.debian['$pkg']")
    installed=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)
    if [ "$installed" = "install ok installed $version" ]; then
      say "Debian $pkg $version: installed"
    elif [[ "$rolling" == *" $pkg "* && "$installed" == "install ok installed "* ]]; then
      say "Debian $pkg ${installed##* }: installed (pin $version; Debian ships only its newest security build)"
    else
      wanted+=("$pkg=$version")
    fi
  done
  if [ ${#wanted[@]} -gt 0 ]; then
    as_root apt-get update -qq
    install=()
    for item in "${wanted[@]}"; do
      pkg=${item%%=*}
      version=${item#*=}
      if apt-cache madison "$pkg" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$version"; then
        install+=("$item")
      elif [[ "$rolling" == *" $pkg "* ]]; then
        say "warning: Debian no longer offers $pkg $version; installing its current build $(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')"
        install+=("$pkg")
      else
        die "Debian package $pkg $version is not available (apt-cache madison $pkg); update environments/tools/versions.json"
      fi
    done
    say "Debian packages: installing ${install[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${install[@]}"
  fi
  # The Debian package enables a system-wide broker on port 1883; the lab starts its own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    as_root systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
fi

# --- Container engine (the containers backend) ----------------------------------------------
# podman, podman-compose, mmdebstrap and runc come from Debian with the packages above. podman is
# configured by the lab's own containers.conf (runc, cgroupfs, host network, ulimits no higher
# than this machine's), never by editing /etc/containers: the lab writes one per run, and this one
# is for running podman or podman-compose by hand: export CONTAINERS_CONF=$ROOT/.tools/containers.conf
mkdir -p "$ROOT/.tools"
node --import tsx --input-type=module \
  -e "import { renderContainersConf } from './environments/containers/engine.ts'; process.stdout.write(renderContainersConf())" \
  > "$ROOT/.tools/containers.conf"
say "podman configuration: $ROOT/.tools/containers.conf (CONTAINERS_CONF)"

# --- Go-built tools (step-ca, step) ---------------------------------------------------
command -v go >/dev/null || die "Go $(pin 'v.minimumGo') or newer is required to build step-ca, step and ecm-connect (not found on PATH)"
mkdir -p "$BIN_DIR"
for tool in $(pin 'Object.keys(v.go).join(" ")'); do
  module=$(pin "v.go['$tool'].module")
  version=$(pin "v.go['$tool'].version")
  if [ -x "$BIN_DIR/$tool" ] && go version -m "$BIN_DIR/$tool" 2>/dev/null | grep -q -E "^\s+mod\s+\S+\s+$version\s"; then
    say "$tool $version: installed"
    continue
  fi
  say "$tool $version: building with $(go version | cut -d' ' -f3) (first time takes a few minutes)"
  # CGO off: the YubiKey/PKCS#11 KMS back ends need C libraries the lab does not use.
  CGO_ENABLED=0 GOBIN="$BIN_DIR" GOFLAGS=-trimpath \
    go install -ldflags "-s -w -X main.Version=${version#v} -X main.BuildTime=pinned" "$module@$version"
done

# --- The native connect generator (load/native-connect, built from this repository) ---------
bash scripts/build-native-connect.sh

say "done; run './bin/ecm-lab.js doctor' to see every tool and its version"
