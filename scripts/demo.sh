#!/usr/bin/env bash
# `npm run demo`: from a fresh clone on a fresh machine, provision what token-push needs, build it,
# start a local world (real KDC, three sshd nodes, HTCondor/htgettoken simulators), run token-push
# as the unprivileged account for two experiments, show what happened, and clean up.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root to create the local world (accounts, sshd nodes, mount namespaces)." >&2
  echo "demo: token-push itself runs as the unprivileged account 'mtuser'. Re-run with: sudo npm run demo" >&2
  exit 1
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Provisioning (Debian packages, unprivileged account) - quiet when already present"
bash scripts/provision.sh
bash scripts/ensure-deps.sh

# Rebuild only when a source file is newer than the built executable.
if [ ! -f dist/src/cmd/token-push.js ] || [ -n "$(find src scripts package.json tsconfig.json -newer dist/src/cmd/token-push.js -print -quit)" ]; then
  step "Building"
  npm run --silent build >/dev/null 2>&1 || true
  if [ ! -f dist/src/cmd/token-push.js ]; then
    echo "demo: build did not produce dist/src/cmd/token-push.js; run 'npm run build' to see why" >&2
    exit 1
  fi
fi

exec node --import tsx scripts/demo.ts "$@"
