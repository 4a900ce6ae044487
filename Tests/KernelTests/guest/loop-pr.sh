#!/bin/bash
# Guest scenario: one LU reached through two tcm_loop targets (two I_T nexuses, two sd devices
# with one LU designator). Persistent reservations are STMF's, not the kernel's: sg_persist sees
# both registrations from either path, a WRITE EXCLUSIVE reservation of one nexus conflicts with
# the other's writes, PREEMPT moves it, and APTPL state survives an stmfd restart.
. "$(dirname "$0")/lib.sh"
check "stmfd started" start_stmfd
GUID=$(new_lu 64m)
T1=2100001b32000021 I1=2100001b32000022 T2=2100001b32000031 I2=2100001b32000032
"$BIN/fcadm" create-loop-port -p $T1 -i $I1 && "$BIN/fcadm" create-loop-port -p $T2 -i $I2 && "$BIN/stmfadm" add-view "$GUID"
A=$(wait_disk $T1); B=$(wait_disk $T2)
check "two disks, one per nexus ($A, $B)" test -n "$A" -a -n "$B" -a "$A" != "$B"
[ -n "$A" ] && [ -n "$B" ] || { finish; exit 1; }
GA=$(sg_of $A) GB=$(sg_of $B)
LOWER=$(echo "$GUID" | tr A-F a-f)
check "both disks name the one LU in VPD 0x83" sh -c "sg_vpd -p 0x83 /dev/$GA | grep -qi 0x$LOWER && sg_vpd -p 0x83 /dev/$GB | grep -qi 0x$LOWER"
"$BIN/fcadm" list-loop-port -v

t "registrations"
check "register key 0x1111 through $A" sg_persist -n --out --register --param-sark=0x1111 /dev/$GA
check "register key 0x2222 through $B" sg_persist -n --out --register --param-sark=0x2222 /dev/$GB
sg_persist -n --in --read-keys /dev/$GA | tee $W/keys.txt
check "READ KEYS through $A lists both" sh -c "grep -q 0x1111 $W/keys.txt && grep -q 0x2222 $W/keys.txt"
sg_persist -n --in --read-full-status /dev/$GB | tee $W/full.txt
spaced() { echo "$1" | sed 's/../& /g; s/ $//'; }
check "READ FULL STATUS: FC TransportIDs of both initiators" sh -c "grep -q '$(spaced $I1)' $W/full.txt && grep -q '$(spaced $I2)' $W/full.txt"
check "READ FULL STATUS: STMF's relative port ids 1 and 2" sh -c "grep -q 'Relative port address: 0x1' $W/full.txt && grep -q 'Relative port address: 0x2' $W/full.txt"

t "reservation"
check "reserve WRITE EXCLUSIVE with 0x1111 through $A" sg_persist -n --out --reserve --param-rk=0x1111 --prout-type=1 /dev/$GA
sg_persist -n --in --read-reservation /dev/$GB | tee $W/resv.txt
check "READ RESERVATION through $B: 0x1111, Write Exclusive" sh -c "grep -q 0x1111 $W/resv.txt && grep -qi 'Write Exclusive' $W/resv.txt"
sg_raw -s 512 -i /dev/zero /dev/$GB 2a 00 00 00 00 00 00 00 01 00 > $W/wb.txt 2>&1; cat $W/wb.txt
check "WRITE through $B: RESERVATION CONFLICT" grep -qi "reservation conflict" $W/wb.txt
sg_raw -s 512 -i /dev/zero /dev/$GA 2a 00 00 00 00 00 00 00 01 00 > $W/wa.txt 2>&1; cat $W/wa.txt
check "WRITE through $A (the holder): GOOD" sh -c "! grep -qi 'conflict\|check condition' $W/wa.txt"
check "READ through $B still allowed (Write Exclusive)" sg_raw -r 512 /dev/$GB 28 00 00 00 00 00 00 00 01 00
check "PREEMPT by 0x2222 through $B" sg_persist -n --out --preempt --param-rk=0x2222 --param-sark=0x1111 --prout-type=1 /dev/$GB
sg_persist -n --in --read-reservation /dev/$GA > $W/ua.txt 2>&1; cat $W/ua.txt
check "the preempted nexus gets REGISTRATIONS PREEMPTED" grep -qi "Registrations preempted" $W/ua.txt
sg_persist -n --in --read-reservation /dev/$GA | tee $W/resv2.txt
check "the reservation is 0x2222's now" grep -q 0x2222 $W/resv2.txt
sg_persist -n --in --read-keys /dev/$GA | tee $W/keys2.txt
check "0x1111 was preempted (unregistered)" sh -c "! grep -q 0x1111 $W/keys2.txt"

t "APTPL"
check "re-register 0x2222 with APTPL through $B" sg_persist -n --out --register --param-rk=0x2222 --param-sark=0x2222 --param-aptpl /dev/$GB
kill -TERM $STMFD; wait $STMFD
check "stmfd stopped" test $? -eq 0
for _ in $(seq 50); do [ -e /sys/block/$A ] || break; sleep 0.2; done
check "stmfd restarted" start_stmfd
A2=$(wait_disk $T1)
check "the disk came back ($A2)" test -n "$A2"
if [ -n "$A2" ]; then
  G2=$(sg_of $A2)
  sg_turs /dev/$G2 >/dev/null 2>&1; sg_turs /dev/$G2 >/dev/null 2>&1
  sg_persist -n --in --read-reservation /dev/$G2 | tee $W/resv3.txt
  check "APTPL: the reservation of 0x2222 survived the restart" sh -c "grep -q 0x2222 $W/resv3.txt && grep -qi 'Write Exclusive' $W/resv3.txt"
fi
kill -TERM $STMFD; wait $STMFD
finish
