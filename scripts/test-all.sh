#!/usr/bin/env bash
# The whole test suite from a fresh clone on a fresh machine: provision the real
# components (Debian packages, the unprivileged account), install npm packages,
# build, run every test, and end with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/provision.sh
bash scripts/ensure-deps.sh
npm run --silent build

mkdir -p .tmp
status=0
# Formatting and type errors count as one failed check each; the tests still run.
extra_failures=()
npx prettier --check --log-level warn . || extra_failures+=("prettier --check")
npx tsc -p tsconfig.test.json || extra_failures+=("tsc (sources and tests)")
npx vitest run --reporter=default --reporter=json --outputFile=.tmp/vitest-report.json "$@" || status=$?
node scripts/summarize-tests.mjs .tmp/vitest-report.json "${extra_failures[@]}" || status=1
exit "$status"
