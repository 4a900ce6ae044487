#!/usr/bin/env bash
# libiscsi's conformance suite over the kernel path: a QEMU guest (run-guest.sh) where stmfd
# serves an SBD file LU through LIO tcm_loop and TCMU to the guest's own SCSI stack, and
# iscsi-test-cu runs the tests scripts/conformance.sh runs on the emulated fabric against the
# guest's two sg devices of the LU (two tcm_loop nexuses). Release binaries (the suite sends
# some 100,000 commands; under software CPU emulation a debug stmfd takes twenty minutes).
# Prints the counts and every failure; exits 1 if any test failed or did not report.
#
#   scripts/kernel/conformance.sh [--no-build] [--output FILE]   (FILE: a markdown section)
set -uo pipefail
cd "$(dirname "$0")/../.."
export SWIFT_DETERMINISTIC_HASHING=1
BUILD=1 OUTPUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) BUILD=0; shift ;;
    --output) OUTPUT=$2; shift 2 ;;
    *) echo "usage: $0 [--no-build] [--output FILE]" >&2; exit 2 ;;
  esac
done
if [ -z "${STMF_BIN:-}" ]; then
  if [ "$BUILD" = 1 ]; then
    for p in stmfd stmfadm sbdadm fcadm; do swift build -c release --product "$p" >/dev/null || exit 1; done
  fi
  STMF_BIN=$(swift build -c release --show-bin-path)
fi
OUT=$(mktemp -d /tmp/stmf-kconf.XXXXXX)
scripts/kernel/run-guest.sh --quiet --timeout 3000 --out "$OUT" --env "STMF_BIN=$STMF_BIN" -- \
  "$PWD/Tests/KernelTests/guest/loop-conformance.sh"
rc=$?
grep -h '^CONFORMANCE' "$OUT/guest.log" 2>/dev/null
if [ -n "$OUTPUT" ] && [ -s "$OUT/suite.tsv" ]; then
  {
    echo "| path | LU | tests | passed | skipped | not implemented | failed | seconds |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    awk -F'\t' -v secs="$(sed -n 's/^CONFORMANCE: \([0-9]*\) s$/\1/p' "$OUT/guest.log")" \
      '{ n[$3]++ } END { printf "| LIO tcm_loop + TCMU (QEMU guest, two nexuses) | SBD file LU, write cache enabled | %d | %d | %d | %d | %d | %s |\n", NR, n["pass"], n["skip"], n["notimpl"], n["fail"] + n["noresult"], secs }' "$OUT/suite.tsv"
  } > "$OUTPUT"
fi
[ $rc -eq 77 ] && exit 77
exit $rc
