#!/usr/bin/env bash
# Installs what the tests need and runs every test. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export SWIFT_DETERMINISTIC_HASHING=1
swift build --build-tests
swift test --skip-build
