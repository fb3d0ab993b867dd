#!/usr/bin/env bash
# Timing goals (see scripts/bench.ts). Needs root: it provisions the local world and runs the
# executables as the unprivileged test user.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh
bash scripts/ensure-deps.sh
npm run --silent build
exec npx tsx scripts/bench.ts
