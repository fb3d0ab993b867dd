#!/usr/bin/env bash
# Installs the npm packages when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # better-sqlite3 compiles from source here (no prebuilt download is reachable).
  npm_config_build_from_source=true npm ci --no-audit --no-fund --loglevel=error
fi
