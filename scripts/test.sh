#!/usr/bin/env bash
# Installs what the tests need and runs every test. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export SWIFT_DETERMINISTIC_HASHING=1
swift build --build-tests
# APIContractTests among them runs schemathesis (installed above, in .build-venv) against a real
# stmfd: under CI=true it fails rather than skips when schemathesis is missing.
# Suites run one after another: the FC suites run a fabric, targets and initiators in this one
# process on Swift's cooperative pool (two threads on a two-core machine), and the CPU-bound
# fuzz suites or blocking process waits of other suites running beside them would starve it.
# (KernelTests' conformance subset is left to the whole suite over the kernel path below.)
STMF_KERNEL_CONFORMANCE_FULL=1 swift test --skip-build --no-parallel
# The concurrency-heavy suites again under ThreadSanitizer (own scratch path; fails on any report).
scripts/tsan.sh
# Coverage-guided fuzzing, briefly: the release sanitizer build of Fuzz/ and 20 s of libFuzzer
# per target on a copy of Fuzz/corpus (fails on any crash; the input lands in Fuzz/regressions).
scripts/fuzz.sh --seconds 20 --jobs "$(nproc)"
# libiscsi's conformance suite through the fabric against every LU configuration (release build;
# fails on any failed test). The committed docs/CONFORMANCE.md is what this script wrote.
scripts/conformance.sh --output "$(mktemp /tmp/stmf-conformance-XXXXXX.md)"
# The same suite over the kernel path: stmfd serving the LU through LIO tcm_loop and TCMU to a
# QEMU guest running Debian's stock kernel (release binaries, built just above).
scripts/kernel/conformance.sh --no-build || { rc=$?; [ $rc = 77 ] && [ "${CI:-}" != true ] || exit $rc; }
