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
npx vitest run
