#!/bin/bash
# Guest scenario: stmfd killed (SIGKILL) and restarted while the guest has a filesystem mounted
# on its LU and writes to it: the new stmfd reattaches to the live TCMU device (block, reset the
# ring so stale commands bounce BUSY, serve, unblock), the disk never goes away, no I/O error
# reaches the filesystem, and everything written reads back and fscks clean.
. "$(dirname "$0")/lib.sh"
check "stmfd started" start_stmfd
GUID=$(new_lu 128m)
TPORT=2100001b32000011 IPORT=2100001b32000012
"$BIN/fcadm" create-loop-port -p $TPORT -i $IPORT && "$BIN/stmfadm" add-view "$GUID"
SD=$(wait_disk $TPORT)
check "the LU appeared as a disk ($SD)" test -n "$SD"
[ -n "$SD" ] || { finish; exit 1; }
DEV=/dev/$SD
mkfs.ext4 -q -F $DEV && mkdir -p $W/mnt && mount $DEV $W/mnt
check "mounted" mountpoint -q $W/mnt
# A writer that keeps going through the kill: files with known contents, each synced.
( i=0; while [ ! -e $W/stop ]; do
    head -c 262144 /dev/urandom > $W/src.$i; cp $W/src.$i $W/mnt/f.$i && sync $W/mnt/f.$i; i=$((i + 1)); done
  echo $i > $W/written ) &
WRITER=$!
sleep 3
t "kill -9 stmfd"
kill -KILL $STMFD; wait $STMFD 2>/dev/null
sleep 2
t "restart stmfd"
check "stmfd restarted" start_stmfd
sleep 4
touch $W/stop; wait $WRITER
N=$(cat $W/written)
t "writer stopped after $N files"
check "the disk stayed ($SD)" test -e /sys/block/$SD
check "the writer made progress across the restart" test "$N" -gt 3
"$BIN/fcadm" list-loop-port -v
umount $W/mnt && echo 3 > /proc/sys/vm/drop_caches && mount $DEV $W/mnt
bad_files=0
for i in $(seq 0 $((N - 1))); do cmp -s $W/src.$i $W/mnt/f.$i || bad_files=$((bad_files + 1)); done
check "every file written reads back ($N files, $bad_files differ)" test $bad_files -eq 0
umount $W/mnt
check "fsck clean" fsck.ext4 -fn $DEV
check "no I/O error reached the disk" sh -c "! dmesg | grep -E 'I/O error|critical (target|medium) error|Buffer I/O' | grep -q $SD"
check "the restarted stmfd reattached (log)" grep -q "earlier run found" $W/stmfd.log
kill -TERM $STMFD; wait $STMFD
check "stmfd stopped cleanly" test $? -eq 0
finish
