#!/usr/bin/env bash
# Installs everything (system packages when missing, npm ci, build), then runs every check and test:
# types, module boundaries, unit tests, and end-to-end tests against real processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test

echo "== typecheck"
npm run --silent typecheck
echo "== module boundaries"
npm run --silent lint:deps
echo "== tests"
# BERTH_NO_SKIPS: every real part is installed above, so a test that skips itself here is a failure.
BERTH_NO_SKIPS=1 npx vitest run
