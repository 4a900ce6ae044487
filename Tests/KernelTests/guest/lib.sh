# Shared by the guest scenarios (sourced; bash). Runs in the QEMU guest chrooted in the host's
# root, cwd = the repository. RESULT lines are what KernelPathTests reads.
set -u
BIN=${STMF_BIN:-$PWD/.build/debug}
fails=0
ok() { echo "RESULT: ok $*"; }
bad() { echo "RESULT: FAIL $*"; fails=$((fails + 1)); }
t() { echo "T+$(cut -d' ' -f1 /proc/uptime) $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() {
  echo "---- stmfd log (tail) ----"; tail -30 "$W/stmfd.log" 2>/dev/null
  echo "---- dmesg (tail) ----"; dmesg | tail -25
  [ $fails -eq 0 ]
}

# bash's process substitution needs /dev/fd, which the guest's devtmpfs lacks.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
modprobe -a target_core_mod target_core_user tcm_loop sd_mod sg || bad "modprobe"
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
W=$(mktemp -d /tmp/stmf.XXXXXX)
export STMF_STATE_DIR=$W/state
mkdir -p "$STMF_STATE_DIR"
CFG=/sys/kernel/config/target

# start_stmfd: runs stmfd on $STMF_STATE_DIR (log appended to $W/stmfd.log), waits for its socket.
start_stmfd() {
  rm -f "$STMF_STATE_DIR/stmf.sock"
  SWIFT_BACKTRACE=enable=yes,interactive=no,color=no "$BIN/stmfd" --state-dir "$STMF_STATE_DIR" >>"$W/stmfd.log" 2>&1 &
  STMFD=$!
  for _ in $(seq 300); do [ -S "$STMF_STATE_DIR/stmf.sock" ] && "$BIN/stmfadm" list-state >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# disk_of TARGET_WWN16 [LUN]: the sd name of that LUN of the tcm_loop target (empty if none).
disk_of() {
  local host
  for h in /sys/class/scsi_host/host*; do
    [ "$(cat $h/proc_name 2>/dev/null)" = tcm_loopback ] || continue
    # tcm_loop names its hosts after the target: the host's device path has the WWN's TPG.
    host=${h##*/host}
    for d in /sys/bus/scsi/devices/$host:0:*:${2:-0}; do
      [ -e "$d" ] || continue
      local wwn; wwn=$(cat "$d/vpd_pg83" 2>/dev/null | od -An -tx1 | tr -d ' \n')
      case $wwn in *"$1"*) ls "$d/block" 2>/dev/null | head -1; return ;; esac
    done
  done
}

# sg_of sdX: its sg node name.
sg_of() { ls /sys/block/$1/device/scsi_generic 2>/dev/null | head -1; }

# wait_disk TARGET_WWN16 [LUN]: waits up to 20 s for the disk; prints its name.
wait_disk() {
  local d=""
  for _ in $(seq 100); do d=$(disk_of "$@"); [ -n "$d" ] && break; sleep 0.2; done
  echo "$d"
}

# new_lu SIZE: an SBD LU on a file in $W; prints its GUID.
new_lu() {
  "$BIN/stmfadm" create-lu -s "$1" "$W/lu$RANDOM.img" --json | sed -n 's/.*"guid" *: *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1
}
