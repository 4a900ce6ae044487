#!/bin/bash
# Guest scenario: stmfd serves an SBD LU to the guest's own SCSI stack through LIO tcm_loop and
# TCMU. Runs inside the QEMU guest (scripts/kernel/run-guest.sh), chrooted in the host's root,
# with the repository as the working directory. Prints RESULT lines; exits non-zero on a failure.
set -u
BIN=${STMF_BIN:-$PWD/.build/debug}
fails=0
ok() { echo "RESULT: ok $*"; }
bad() { echo "RESULT: FAIL $*"; fails=$((fails + 1)); }
t() { echo "T+$(cut -d' ' -f1 /proc/uptime) $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

modprobe -a target_core_mod target_core_user tcm_loop sd_mod sg || bad "modprobe"
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
W=$(mktemp -d /tmp/stmf.XXXXXX)
export STMF_STATE_DIR=$W/state
mkdir -p "$STMF_STATE_DIR"
SWIFT_BACKTRACE=enable=yes,interactive=no,color=no "$BIN/stmfd" --state-dir "$STMF_STATE_DIR" >"$W/stmfd.log" 2>&1 &
STMFD=$!
for _ in $(seq 200); do [ -S "$STMF_STATE_DIR/stmf.sock" ] && break; sleep 0.1; done
check "stmfd started" test -S "$STMF_STATE_DIR/stmf.sock"

t "create LU"
GUID=$("$BIN/sbdadm" create-lu -s 64m "$W/lu0.img" --json | sed -n 's/.*"guid" *: *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1)
check "sbdadm create-lu" test -n "$GUID"
TPORT=2100001b32000001 IPORT=2100001b32000002
check "fcadm create-loop-port" "$BIN/fcadm" create-loop-port -p $TPORT -i $IPORT
t "add view"
check "stmfadm add-view" "$BIN/stmfadm" add-view "$GUID"
for _ in $(seq 100); do ls /sys/class/scsi_disk/ 2>/dev/null | grep -q . && break; sleep 0.2; done
"$BIN/fcadm" list-loop-port -v
SD=$(ls /sys/block | grep '^sd' | head -1)
SG=$(ls /sys/class/scsi_generic | head -1)
check "the LU appeared as a disk ($SD, $SG)" test -n "$SD" -a -n "$SG"
[ -n "$SD" ] || { cat "$W/stmfd.log"; exit 1; }
DEV=/dev/$SD
sg_inq /dev/$SG > $W/inq.txt 2>&1; check "sg_inq: STMF's SBD disk" grep -q "Vendor identification: STMF" $W/inq.txt
cat $W/inq.txt | head -20
sg_vpd -p 0x83 /dev/$SG > $W/vpd83.txt 2>&1; cat $W/vpd83.txt
LOWER=$(echo "$GUID" | tr A-F a-f)
check "VPD 0x83 names the LU's GUID" grep -qi "0x$LOWER" $W/vpd83.txt
check "VPD 0x83 has STMF's relative target port" grep -qi "Relative target port: 0x" $W/vpd83.txt
check "VPD 0x83 names the target port by its WWN (STMF's port registry)" grep -qi "0x$TPORT" $W/vpd83.txt
check "sg_readcap: 64 MiB" sh -c "sg_readcap /dev/$SG | grep -q 'Device size: 67108864 bytes'"
check "sg_luns" sg_luns /dev/$SG
t "filesystem"
check "mkfs.ext4" mkfs.ext4 -q -F $DEV
mkdir -p $W/mnt
check "mount" mount $DEV $W/mnt
dd if=/dev/urandom of=$W/blob bs=1M count=8 2>/dev/null
cp $W/blob $W/mnt/blob && sync
S1=$(md5sum < $W/blob)
umount $W/mnt && echo 3 > /proc/sys/vm/drop_caches
mount $DEV $W/mnt
S2=$(md5sum < $W/mnt/blob)
umount $W/mnt
check "data written through stmfd reads back after remount" test "$S1" = "$S2"
check "fsck clean" fsck.ext4 -fn $DEV
"$BIN/fcadm" list-loop-port -v

t "remove view"
check "stmfadm remove-view" "$BIN/stmfadm" remove-view -l "$GUID" -a
for _ in $(seq 50); do [ -e /sys/block/$SD ] || break; sleep 0.2; done
check "the disk went with the view" test ! -e /sys/block/$SD
check "no TCMU device left" test -z "$(find /sys/kernel/config/target/core/user_4711 -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"

t "stop"
kill -TERM $STMFD; wait $STMFD
check "stmfd stopped cleanly" test $? -eq 0
check "stmfd removed its loopback target" test ! -e /sys/kernel/config/target/loopback/fc.$TPORT
echo "---- stmfd log (tail) ----"; tail -20 "$W/stmfd.log"
echo "---- dmesg (tail) ----"; dmesg | tail -20
[ $fails -eq 0 ]
