#!/usr/bin/env bash
# Crash and fault soak: runs the crash-consistency tests (stmfd killed with SIGKILL during
# writes and configuration changes, initiators and the fabric killed mid-I/O) and the fio
# verify run under frame loss, corruption, delay, duplication and link bounces, round after
# round until the time is up, then prints the totals. Any failure stops it with exit 1.
#
#   scripts/soak.sh --hours 2            (or --minutes N)
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
seconds=3600
while [ $# -gt 0 ]; do
    case "$1" in
        --hours) seconds=$(( $2 * 3600 )); shift 2 ;;
        --minutes) seconds=$(( $2 * 60 )); shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown option $1 (use --hours N or --minutes N)" >&2; exit 64 ;;
    esac
done
scripts/install-deps.sh >/dev/null
swift build --build-tests
log=$(mktemp /tmp/stmf-soak-XXXXXX.log)
echo "soak: $seconds s; log $log"
start=$(date +%s)
round=0
# Each round: 16 kills per crash test (the write tests use a 1 MiB region of the LU per kill)
# and 10 minutes of fio under faults.
while [ $(( $(date +%s) - start )) -lt "$seconds" ]; do
    round=$((round + 1))
    left=$(( seconds - ($(date +%s) - start) ))
    fio_seconds=$(( left < 600 ? (left > 30 ? left : 30) : 600 ))
    if ! STMF_CRASH_ITERATIONS=16 STMF_SOAK_SECONDS=$fio_seconds \
        swift test --skip-build --no-parallel --filter 'CrashConsistencyTests|faultsDuringFioVerify' >>"$log" 2>&1; then
        echo "soak: round $round FAILED after $(( $(date +%s) - start )) s; see $log" >&2
        grep -E '✘' "$log" | tail -20 >&2
        exit 1
    fi
    echo "soak: round $round passed ($(( $(date +%s) - start )) s)"
done
elapsed=$(( $(date +%s) - start ))
sum() { grep -oE "$1" "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}'; }
kills=$(grep -oE 'stmfd killed [0-9]+ times' "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
echo "soak: $round rounds in $elapsed s"
echo "  stmfd SIGKILLs: $kills"
echo "  acknowledged 4 KiB writes checked after a kill: $(sum '[0-9]+ acknowledged 4 KiB')"
echo "  acknowledged configuration steps checked after a kill: $(sum '[0-9]+ acknowledged LU')"
echo "  fio write+verify passes under faults: $(sum '[0-9]+ fio write\+verify passes')"
echo "  passes repeated after a unit attention: $(sum '[0-9]+ passes repeated')"
echo "  failures: 0"
