#!/usr/bin/env bash
# The step CLI as a team-supplied certificate client for `ecm-lab run --target` (README
# "Drivers"): the lab runs it once per operation and device, with the operation as the last
# argument and the device's files and endpoints in ECM_* variables. Exit 3 means "refused by the
# CA or the service"; any other failure exits 1. STEP names the step binary (default: step).
set -uo pipefail

step="${STEP:-step}"
operation="${1:?usage: step-cli-driver.sh provision|get-certificate|renew}"

# A step configuration of the device's own, beside its store.
export STEPPATH="$(dirname "$ECM_CERT")/.step-driver"
mkdir -p "$STEPPATH" && chmod 700 "$STEPPATH"

case "${ECM_KEY_ALGORITHM:-ecdsa-p256}" in
  rsa-*) key_flags=(--kty RSA --size "${ECM_KEY_ALGORITHM#rsa-}") ;;
  ecdsa-p384) key_flags=(--kty EC --curve P-384) ;;
  *) key_flags=(--kty EC --curve P-256) ;;
esac

# Runs step; a refusal (the service OFF, not white-listed, forbidden, unauthorized, revoked)
# exits 3 with step's own words, anything else exits 1.
run_step() {
  local output
  if output="$("$step" "$@" --root "$ECM_ROOT" --force 2>&1)"; then
    return 0
  fi
  echo "$output" | grep -v 'STEPDEBUG' >&2
  if echo "$output" | grep -qiE 'forbidden|unauthori[sz]ed|not authorized|revoked|white ?list|service is OFF'; then
    exit 3
  fi
  exit 1
}

case "$operation" in
  provision)
    run_step ca certificate "$ECM_ADDRESS" "$ECM_BOOTSTRAP_CERT" "$ECM_BOOTSTRAP_KEY" \
      --acme "$ECM_ACME_DIRECTORY" --webroot "$ECM_HTTP01_WEBROOT" "${key_flags[@]}"
    ;;
  get-certificate)
    san_flags=()
    IFS=',' read -ra sans <<< "${ECM_SANS:-}"
    for san in "${sans[@]}"; do [ -n "$san" ] && san_flags+=(--san "$san"); done
    lifetime=()
    [ -n "${ECM_LIFETIME_SECONDS:-}" ] && lifetime=(--not-after "${ECM_LIFETIME_SECONDS}s")
    run_step ca certificate "$ECM_IDENTITY" "$ECM_CERT" "$ECM_KEY" \
      --provisioner "$ECM_X5C_PROVISIONER" --x5c-cert "$ECM_BOOTSTRAP_CERT" --x5c-key "$ECM_BOOTSTRAP_KEY" \
      --ca-url "$ECM_CA_URL" "${san_flags[@]}" "${lifetime[@]}" "${key_flags[@]}"
    ;;
  renew)
    # Token renewal through the CA URL: a TLS terminator cannot pass a client certificate on.
    run_step ca renew "$ECM_CERT" "$ECM_KEY" --ca-url "$ECM_CA_URL" --mtls=false
    ;;
  *)
    echo "unknown operation $operation: expected provision, get-certificate or renew" >&2
    exit 2
    ;;
esac
