#!/bin/bash
# Guest scenario: stmfd serves an SBD LU to the guest's own SCSI stack through LIO tcm_loop and
# TCMU: sg3_utils see STMF's identity, ext4 round-trips data, a view removal removes the disk,
# a clean stop leaves no LIO object. Exits non-zero on any failed RESULT.
. "$(dirname "$0")/lib.sh"
check "stmfd started" start_stmfd
t "create LU"
GUID=$(new_lu 64m)
check "stmfadm create-lu" test -n "$GUID"
TPORT=2100001b32000001 IPORT=2100001b32000002
check "fcadm create-loop-port" "$BIN/fcadm" create-loop-port -p $TPORT -i $IPORT
t "add view"
check "stmfadm add-view" "$BIN/stmfadm" add-view "$GUID"
SD=$(wait_disk $TPORT)
SG=$(sg_of "$SD")
"$BIN/fcadm" list-loop-port -v
check "the LU appeared as a disk ($SD, $SG)" test -n "$SD" -a -n "$SG"
[ -n "$SD" ] || { finish; exit 1; }
check "stmfd listens to TCM-USER netlink" grep -q "listening to TCM-USER netlink events" $W/stmfd.log
check "stmfd heard its device's ADDED_DEVICE event" grep -q "TCMU device ${GUID,,}_${IPORT}_${TPORT} added" $W/stmfd.log
DEV=/dev/$SD
sg_inq /dev/$SG > $W/inq.txt 2>&1; cat $W/inq.txt | head -16
check "sg_inq: STMF's SBD disk" grep -q "Vendor identification: STMF" $W/inq.txt
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

t "sessions and resize"
"$BIN/stmfadm" list-target -v > $W/targets.txt 2>&1; cat $W/targets.txt
check "list-target -v shows the kernel's session (the tcm_loop nexus)" grep -qi "Initiator: wwn.$IPORT" $W/targets.txt
check "with LIO's statistics of the nexus" sh -c "grep -A5 -i 'Initiator: wwn.$IPORT' $W/targets.txt | grep -Eq 'Commands: [1-9]'"
"$BIN/fcinfo" remote-port -p $TPORT > $W/remote.txt 2>&1; cat $W/remote.txt
check "fcinfo remote-port shows the initiator logged in" grep -qi "Remote Port WWN: $IPORT" $W/remote.txt
check "stmfadm modify-lu -s 96m" "$BIN/stmfadm" modify-lu -s 96m "$GUID"
DEVDIR=$CFG/core/user_4711/${GUID,,}_${IPORT}_${TPORT}
for _ in $(seq 50); do [ "$(cat $DEVDIR/attrib/dev_size)" = 100663296 ] && break; sleep 0.2; done
check "the TCMU device's dev_size follows the LU" test "$(cat $DEVDIR/attrib/dev_size)" = 100663296
echo 1 > /sys/block/$SD/device/rescan
check "the initiator reads 96 MiB after a rescan" test "$(cat /sys/block/$SD/size)" = 196608

t "a second LU added to the view"
dmesg -C
GUID2=$(new_lu 32m)
check "add-view of a second LU as LUN 1" "$BIN/stmfadm" add-view -n 1 "$GUID2"
SD2=$(wait_disk $TPORT 1)
check "it appeared as LUN 1 ($SD2)" test -n "$SD2"
sg_turs -v /dev/$SG > $W/tur.txt 2>&1; sg_turs -v /dev/$SG >> $W/tur.txt 2>&1; cat $W/tur.txt
check "LUN 0's nexus was told once (LIO's unit attention, not doubled by STMF's): REPORTED LUNS DATA HAS CHANGED" test "$(grep -ci 'luns data has changed' $W/tur.txt)" = 1
"$BIN/fcadm" list-loop-port -v

t "remove views"
check "stmfadm remove-view (LUN 1)" "$BIN/stmfadm" remove-view -l "$GUID2" -a
check "stmfadm remove-view" "$BIN/stmfadm" remove-view -l "$GUID" -a
for _ in $(seq 50); do [ -e /sys/block/$SD ] || break; sleep 0.2; done
check "the disk went with the view" test ! -e /sys/block/$SD
check "no TCMU device left" test -z "$(find $CFG/core/user_4711 -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"

t "stop"
kill -TERM $STMFD; wait $STMFD
check "stmfd stopped cleanly" test $? -eq 0
check "stmfd removed its loopback target" test ! -e $CFG/loopback/fc.$TPORT
finish
