#!/bin/sh
# Smoke test of the kernel harness, run in the guest:
#   scripts/kernel/run-guest.sh -- "$PWD/scripts/kernel/smoke.sh"
# LIO fileio backstore on a tmpfs file exported by tcm_loop → /dev/sdX: sg_inq, sg_readcap,
# sg_vpd 0x83, mkfs.ext4, 8 MiB written and read back after drop_caches, fsck; a TCMU device
# (core/user_0) gets its /dev/uioN; the qla2xxx fabric directory can be made without an HBA.
# Prints "RESULT: ok …" / "RESULT: FAIL …"; exits 1 on any failure. POSIX sh (the host's dash).
set -u
if [ "${STMF_GUEST:-}" != 1 ]; then
  echo "smoke.sh runs in the test guest: scripts/kernel/run-guest.sh -- \"\$PWD/scripts/kernel/smoke.sh\"" >&2
  exit 2
fi
CFG=/sys/kernel/config/target
T0=$(cut -d' ' -f1 /proc/uptime)
fails=0
t() { echo "T+$(cut -d' ' -f1 /proc/uptime) $*"; }
ok() { echo "RESULT: ok $*"; }
fail() { echo "RESULT: FAIL $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND [ARGS...]: runs it (its output shown), ok/FAIL by exit status
  d=$1; shift
  if "$@"; then ok "$d"; else fail "$d (exit $?)"; fi
}
waitfor() { # waitfor SECONDS TEST-ARGS...: polls `test ARGS` every 0.1 s
  n=$(($1 * 10)); shift
  while [ "$n" -gt 0 ]; do test "$@" && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}

t "modules"
check "modprobe target_core_mod target_core_user tcm_loop target_core_file sd_mod sg" \
  modprobe -a target_core_mod target_core_user tcm_loop target_core_file sd_mod sg
grep -q '^configfs ' /proc/mounts || mount -t configfs configfs /sys/kernel/config
check "configfs target tree at $CFG" test -d "$CFG/core"

# --- LIO fileio backstore exported through tcm_loop ---------------------------------------------
t "fileio backstore + tcm_loop"
D=$CFG/core/fileio_0/disk
W=naa.5001405aaaaaaaaa
TPG=$CFG/loopback/$W/tpgt_1
truncate -s 67108864 /tmp/disk.img
dev=""
if mkdir -p "$D" &&
   printf %s "fd_dev_name=/tmp/disk.img,fd_dev_size=67108864" > "$D/control" &&
   printf 1 > "$D/enable" &&
   # as targetcli does: without a unit serial LIO lists no VPD pages (sg_vpd then refuses 0x83)
   printf %s 5a1e5a1e-0000-4000-8000-0000000000aa > "$D/wwn/vpd_unit_serial"; then
  ok "fileio backstore core/fileio_0/disk enabled"
  if mkdir -p "$TPG/lun/lun_0" && printf %s naa.5001405bbbbbbbbb > "$TPG/nexus" &&
     ln -s "$D" "$TPG/lun/lun_0/disk"; then
    ok "tcm_loop $W/tpgt_1 nexus naa.5001405bbbbbbbbb, lun_0 linked"
    # tpgt_1/address is the SCSI host:channel:target of the TPG: its LUN 0 is our disk.
    addr=$(cat "$TPG/address")
    if waitfor 20 -d "/sys/class/scsi_device/$addr:0/device/block" &&
       dev=$(ls "/sys/class/scsi_device/$addr:0/device/block" | head -1) && waitfor 10 -b "/dev/$dev"; then
      ok "block device /dev/$dev at $addr:0"
    else
      fail "no block device appeared for $addr:0"; dev=""
    fi
  else
    fail "tcm_loop target"
  fi
else
  fail "fileio backstore"
fi
command -v lsscsi >/dev/null && lsscsi -g

if [ -n "$dev" ]; then
  B=/dev/$dev
  t "SCSI commands on $B"
  check "sg_inq $B" sg_inq "$B"
  check "sg_readcap $B says 67108864 bytes" sh -c "sg_readcap '$B' | tee /dev/stderr | grep -q 'Device size: 67108864 bytes'"
  check "sg_vpd -p 0x83 $B has an NAA designator" sh -c "sg_vpd -p 0x83 '$B' | tee /dev/stderr | grep -q 'NAA'"
  check "sg_vpd -p 0x80 $B is the unit serial" sh -c "sg_vpd -p 0x80 '$B' | tee /dev/stderr | grep -q 5a1e5a1e-0000-4000-8000-0000000000aa"

  t "ext4 on $B"
  M=/tmp/mnt
  mkdir -p "$M"
  check "mkfs.ext4 $B" mkfs.ext4 -q -F "$B"
  if mount "$B" "$M"; then
    ok "mount $B"
    dd if=/dev/urandom of=/tmp/blob bs=1M count=8 2>/dev/null
    S1=$(md5sum < /tmp/blob | cut -d' ' -f1)
    cp /tmp/blob "$M/blob" && sync && umount "$M" && echo 3 > /proc/sys/vm/drop_caches &&
      mount "$B" "$M" && S2=$(md5sum < "$M/blob" | cut -d' ' -f1) && umount "$M" || S2=unreadable
    if [ "$S1" = "$S2" ]; then ok "8 MiB read back after drop_caches ($S1)"; else fail "8 MiB read back: $S1 != $S2"; fi
    rm -f /tmp/blob
  else
    fail "mount $B"
  fi
  check "fsck.ext4 -fn $B" fsck.ext4 -fn "$B"
fi

t "teardown"
if [ -d "$TPG" ]; then
  rm -f "$TPG/lun/lun_0/disk"; rmdir "$TPG/lun/lun_0" "$TPG" "$CFG/loopback/$W" &&
    check "tcm_loop target removed" test ! -e "$CFG/loopback/$W"
fi
if [ -d "$D" ]; then
  rmdir "$D" "$CFG/core/fileio_0" && check "fileio backstore removed" test ! -e "$CFG/core/fileio_0"
fi
[ -z "$dev" ] || check "/dev/$dev gone" waitfor 10 ! -e "/dev/$dev"
rm -f /tmp/disk.img

# --- TCMU: a user backstore gets its uio device (no LUN: nothing would serve the ring) -----------
t "TCMU"
U=$CFG/core/user_0/x
if mkdir -p "$U" && printf %s dev_size=1048576 > "$U/control" && printf 1 > "$U/enable"; then
  ok "TCMU backstore core/user_0/x enabled"
  if waitfor 10 -c /dev/uio0; then
    name=$(cat /sys/class/uio/uio0/name)
    case $name in
      tcm-user*) ok "/dev/uio0 is $name" ;;
      *) fail "/sys/class/uio/uio0/name is '$name', not tcm-user…" ;;
    esac
  else
    fail "/dev/uio0 did not appear"
  fi
  rmdir "$U" "$CFG/core/user_0" && check "TCMU backstore removed, /dev/uio0 gone" waitfor 10 ! -e /dev/uio0
else
  fail "TCMU backstore core/user_0/x"
fi

# --- qla2xxx fabric without an HBA -------------------------------------------------------------
t "qla2xxx"
check "modprobe tcm_qla2xxx" modprobe tcm_qla2xxx
if mkdir "$CFG/qla2xxx" 2>/dev/null || [ -d "$CFG/qla2xxx" ]; then
  ok "mkdir $CFG/qla2xxx"
  ls "$CFG/qla2xxx"
  rmdir "$CFG/qla2xxx"
else
  fail "mkdir $CFG/qla2xxx"
fi

t "done in $(echo "$(cut -d' ' -f1 /proc/uptime) - $T0" | bc)s, $fails failure(s)"
if [ "$fails" -gt 0 ]; then
  echo "---- dmesg (tail) ----"
  dmesg | tail -40
  exit 1
fi
echo "RESULT: ok smoke"
