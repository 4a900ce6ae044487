#!/usr/bin/env bash
# The FC path's benchmark: builds release binaries, starts fcfabric and stmfd in a temporary
# state directory with a 1 GiB LU exported over an emulated target port, and runs `fcinit
# bench` against it — which measures, in the same run, the raw socket relay limit of the same
# topology (and, with --reflector, the relay reflector limit).
#
#   scripts/bench-fc.sh [--lu ram|file] [fcinit bench options]
#
# --lu ram     an SBD RAM LU (the default)
# --lu file    an SBD file LU on /dev/shm (tmpfs), served through the event loops' io_uring
# --fio SECS   afterwards, the same workloads as fio (ioengine=sg) through `fcinit exec`, SECS
#              seconds each: what a user's tool sees through the SG_IO bridge
# Other arguments go to `fcinit bench` (e.g. --seconds 2 --only qd32 --reflector --json).
# Stops what it started.
set -euo pipefail
kind=ram
fio_seconds=0
while [ $# -gt 0 ]; do
  case "$1" in
    --lu) kind="$2"; shift 2 ;;
    --fio) fio_seconds="$2"; shift 2 ;;
    *) break ;;
  esac
done
case "$kind" in ram|file) ;; *) echo "bench-fc.sh: --lu ram or --lu file" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
for p in fcfabric stmfd stmfadm sbdadm fcadm fcinit; do swift build -c release --product "$p" >/dev/null 2>&1 || swift build -c release --product "$p"; done
BIN=$(swift build -c release --show-bin-path)

DIR=$(mktemp -d /tmp/stmf-bench.XXXXXX)
LU=$(mktemp -u /dev/shm/stmf-bench-lu.XXXXXX)
export STMF_STATE_DIR=$DIR/state FCFABRIC_SOCKET=$DIR/fabric.sock
TARGET_WWPN=2100001b32a0be01
HOST_WWPN=2100001b32b0be01
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR" "$LU"
}
trap cleanup EXIT

"$BIN/fcfabric" --socket "$FCFABRIC_SOCKET" 2>"$DIR/fcfabric.log" &
pids+=($!)
"$BIN/stmfd" --state-dir "$STMF_STATE_DIR" 2>"$DIR/stmfd.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$STMF_STATE_DIR/stmf.sock" ] && [ -S "$FCFABRIC_SOCKET" ] && break; sleep 0.1; done
if [ "$kind" = ram ]; then BACKING=ram:bench; WHERE="RAM"; else BACKING=$LU; WHERE="file on $LU"; fi
GUID=$("$BIN/sbdadm" create-lu -s 1g "$BACKING" --json | sed -n 's/.*"guid" *: *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1)
"$BIN/stmfadm" create-hg bench-hosts
"$BIN/stmfadm" add-hg-member -g bench-hosts "wwn.$HOST_WWPN"
"$BIN/stmfadm" add-view -h bench-hosts "$GUID"
"$BIN/fcadm" create-emulated-port -p "$TARGET_WWPN" --fabric "$FCFABRIC_SOCKET" >/dev/null
echo "LU $GUID (1 GiB, $WHERE) behind wwn.$TARGET_WWPN; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
FCINIT_WWPN=$HOST_WWPN "$BIN/fcinit" bench --target "wwn.$TARGET_WWPN" --lun 0 "$@"

if [ "$fio_seconds" != 0 ]; then
  echo
  echo "the same workloads as fio (ioengine=sg, libaio-like async sg v3) through fcinit exec and the SG_IO bridge, ${fio_seconds} s each"
  printf '%-20s %10s %10s %9s\n' workload IOPS MB/s "p50 µs"
  run_fio() { # name rw bs depth
    FCINIT_WWPN=$HOST_WWPN "$BIN/fcinit" exec --target "wwn.$TARGET_WWPN" --lun 0 -- \
      fio --name="$1" --filename=/dev/sg-fcinit0 --ioengine=sg --rw="$2" --bs="$3" --iodepth="$4" \
          --size=1g --time_based --runtime="$fio_seconds" --output-format=json --output="$DIR/fio.json" >/dev/null 2>&1
    python3 -c '
import json, sys
name, rw, path = sys.argv[1], sys.argv[2], sys.argv[3]
j = json.load(open(path))["jobs"][0]
d = j["read"] if "read" in rw else j["write"]
p50 = d.get("clat_ns", {}).get("percentile", {}).get("50.000000", 0) / 1000
iops, mbs = d["iops"], d["bw_bytes"] / 1e6
print(f"{name:<20} {iops:10.0f} {mbs:10.1f} {p50:9.1f}")
' "$1" "$2" "$DIR/fio.json"
  }
  run_fio "4k randread qd1" randread 4k 1
  run_fio "4k randread qd32" randread 4k 32
  run_fio "4k randwrite qd1" randwrite 4k 1
  run_fio "4k randwrite qd32" randwrite 4k 32
  run_fio "1m seqread qd1" read 1m 1
  run_fio "1m seqwrite qd1" write 1m 1
fi
