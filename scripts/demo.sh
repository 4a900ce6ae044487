#!/usr/bin/env bash
# The demo: an FC SAN on one machine. Installs what is needed, builds, starts the emulated
# fabric (fcfabric) and the target service (stmfd) in a temporary state directory, exports a
# file-backed LU to one host over an emulated FC target port, reaches it from an emulated
# initiator with discovery and unmodified sg3_utils, shows the COMSTAR views of it all, and
# stops everything it started. STMF_DEMO_KEEP=1 keeps the directory (with the fabric's pcap).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export SWIFT_DETERMINISTIC_HASHING=1
swift build
BIN=$(swift build --show-bin-path)

DEMO=$(mktemp -d /tmp/stmf-demo.XXXXXX)
export STMF_STATE_DIR=$DEMO/state FCFABRIC_SOCKET=$DEMO/fabric.sock
TARGET_WWPN=2100001b32a0d001
HOST_WWPN=2100001b32b0e001          # the demo initiator, in the host group
STRANGER_WWPN=2100001b32b0e0ff      # another initiator, not in it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${STMF_DEMO_KEEP:-0}" = 1 ]; then echo "kept $DEMO"; else rm -rf "$DEMO"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "start the emulated fabric and stmfd"
"$BIN/fcfabric" --socket "$FCFABRIC_SOCKET" --pcap "$DEMO/fabric.pcap" --e-d-tov 1000 --r-a-tov 2000 2>"$DEMO/fcfabric.log" &
pids+=($!)
"$BIN/stmfd" --state-dir "$STMF_STATE_DIR" 2>"$DEMO/stmfd.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$STMF_STATE_DIR/stmf.sock" ] && [ -S "$FCFABRIC_SOCKET" ] && break; sleep 0.1; done
run "$BIN/stmfadm" list-state

step "a 64 MiB file-backed LU, a host group for the demo host, a view"
GUID=$("$BIN/sbdadm" create-lu -s 64m "$DEMO/lu0.img" --json | sed -n 's/.*"guid" *: *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1)
echo "created LU $GUID"
run "$BIN/stmfadm" create-hg demo-hosts
run "$BIN/stmfadm" add-hg-member -g demo-hosts "wwn.$HOST_WWPN"
run "$BIN/stmfadm" add-view -h demo-hosts "$GUID"

step "an emulated FC target port of stmfd, logged in to the fabric"
run "$BIN/fcadm" create-emulated-port -p "$TARGET_WWPN" --fabric "$FCFABRIC_SOCKET"

step "the demo host discovers targets and LUNs (name server, PLOGI, PRLI, REPORT LUNS, INQUIRY)"
FCINIT_WWPN=$HOST_WWPN run "$BIN/fcinit" discover
step "an initiator outside the host group sees the target but no LUN"
FCINIT_WWPN=$STRANGER_WWPN run "$BIN/fcinit" discover

step "unmodified sg3_utils through the fabric (fcinit exec)"
export FCINIT_WWPN=$HOST_WWPN
fcexec() { "$BIN/fcinit" exec --target "wwn.$TARGET_WWPN" --lun 0 -- "$@"; }
run fcexec sh -c 'sg_inq "$FCINIT_DEVICE"'
run fcexec sh -c 'sg_readcap -l "$FCINIT_DEVICE"'
run fcexec sh -c 'sg_luns "$FCINIT_DEVICE"; sg_vpd -p di "$FCINIT_DEVICE"'
head -c 1048576 /dev/urandom > "$DEMO/pattern"
run fcexec sh -c "sg_dd if=$DEMO/pattern of=\"\$FCINIT_DEVICE\" bs=512 count=2048 seek=4096"
run fcexec sh -c "sg_dd if=\"\$FCINIT_DEVICE\" of=$DEMO/readback bs=512 count=2048 skip=4096"
run cmp "$DEMO/pattern" "$DEMO/readback" && echo "1 MiB written and read back over FC: identical"

step "what the administrator sees (list-target and remote-port while the demo host is logged in)"
run "$BIN/stmfadm" list-lu -v
run "$BIN/stmfadm" list-view -l "$GUID"
PATH="$BIN:$PATH" run fcexec sh -c "stmfadm list-target -v; fcinfo hba-port; fcinfo remote-port -p $TARGET_WWPN"
unset FCINIT_WWPN
run "$BIN/fcfabric" ctl show

step "done: stopping stmfd and the fabric"
