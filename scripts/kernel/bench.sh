#!/usr/bin/env bash
# The kernel-path speed comparison (issue 14): builds the release binaries, boots the QEMU guest
# (run-guest.sh --smp 2 --mem 2048) and runs Tests/KernelTests/guest/bench.sh there — fio on a
# tcm_loop LUN served by stmfd, beside LIO's fileio backstore and tcmu-runner on a plain file, in the
# same boot — then prints the table (also in <out>/bench.md, per run in <out>/bench-runs.tsv).
#
#   scripts/kernel/bench.sh [--seconds N] [--rounds N] [--size-mb N] [--out DIR] [--no-build] [--hba-scan]
#
# --seconds: fio runtime per job and backend (default 5, after a 1 s ramp), --rounds:
# repetitions of the whole job × backend matrix, medians taken (default 3). 18 runs per round.
# --hba-scan: leave stmfd's periodic HBA scan on (by default the guest hides modules.alias from it:
# each scan parses the whole table, an idle cost that would burden all three backends alike).
# Exit status: the guest scenario's (77: no guest can be booted here, see run-guest.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seconds=5 rounds=3 size_mb=256 out="" build=1 hba_scan=0
usage() { sed -n '7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --hba-scan) hba_scan=1; shift ;;
    -h|--help) usage ;;
    *) echo "bench: unknown argument $1" >&2; usage ;;
  esac
done
cd "$repo" || exit 1

if [ $build -eq 1 ]; then
  # One SwiftPM at a time in .build (it locks it anyway; waiting here keeps the output readable).
  while pgrep -f swift-build >/dev/null; do echo "bench: waiting for another swift-build to finish" >&2; sleep 10; done
  export SWIFT_DETERMINISTIC_HASHING=1
  for p in stmfd stmfadm sbdadm fcadm; do
    swift build -c release --product "$p" || { echo "bench: swift build -c release --product $p failed" >&2; exit 1; }
  done
fi
bin=$repo/.build/release
for p in stmfd stmfadm sbdadm fcadm; do
  [ -x "$bin/$p" ] || { echo "bench: no $bin/$p (run without --no-build)" >&2; exit 1; }
done

if [ -z "$out" ]; then
  out=${STMF_KERNEL_DIR:-$repo/.build-kernel}/runs/bench-$(date +%Y%m%d-%H%M%S)-$$
fi
mkdir -p "$out" && out=$(cd "$out" && pwd)
# Boot, set-up and teardown take ~2 min; per job and round one fio (2-4 s start-up under TCG)
# runs the three backends for 1 + seconds each.
timeout_s=$((360 + rounds * 6 * (3 * (seconds + 3) + 8)))
# The guest's clock on the TSC: under TCG the kernel finds the vCPUs' TSCs "unsynchronized" and
# falls back to the HPET, where every clock_gettime is a system call and an emulated MMIO read
# (stmfd reads the clock ~4 times per command, fio per I/O too); on real hardware it is the vDSO.
"$here/run-guest.sh" --timeout "$timeout_s" --smp 2 --mem 2048 --out "$out" --quiet \
  --append "clocksource=tsc tsc=reliable" \
  --env STMF_BIN="$bin" --env STMF_BENCH_SECONDS="$seconds" --env STMF_BENCH_ROUNDS="$rounds" \
  --env STMF_BENCH_SIZE_MB="$size_mb" --env STMF_BENCH_HBA_SCAN="$hba_scan" \
  -- "$repo/Tests/KernelTests/guest/bench.sh"
status=$?
grep -E '^(RESULT|round |T\+|guest clocksource|stmfd HBA scan|idle guest|  +[0-9]+ |stmfd /dev|fileio /dev|tcmu-runner /dev)' "$out/guest.log" 2>/dev/null
echo
if [ -s "$out/bench.md" ]; then cat "$out/bench.md"; else echo "bench: no table (status $status); see $out/guest.log and $out/serial.log" >&2; fi
echo "bench: logs and results in $out (exit status $status)"
exit $status
