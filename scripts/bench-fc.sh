#!/usr/bin/env bash
# The FC path's benchmark: builds release binaries, starts fcfabric and stmfd in a temporary
# state directory with a 1 GiB LU exported over an emulated target port, and runs `fcinit
# bench` against it — which measures, in the same run, the raw socket relay limit of the same
# topology (and, with --reflector, the relay reflector limit).
#
#   scripts/bench-fc.sh [--lu ram|file] [fcinit bench options]
#
# --lu ram   an SBD RAM LU (the default)
# --lu file  an SBD file LU on /dev/shm (tmpfs), served through the event loops' io_uring
# Other arguments go to `fcinit bench` (e.g. --seconds 2 --only qd32 --reflector --json).
# Stops what it started.
set -euo pipefail
kind=ram
if [ "${1:-}" = "--lu" ]; then kind="$2"; shift 2; fi
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
