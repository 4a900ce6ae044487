#!/bin/bash
# Guest scenario: SCSI pass-through (provider sg). A scsi_debug disk of the guest is exported by
# stmfd through tcm_loop/TCMU and comes back as a second disk: its identity and data are the
# device's, reservations are STMF's (emulated across two nexuses, never sent to the device),
# port identities are STMF's; the LU returns after an stmfd restart by the device's designators.
# A scsi_debug tape (ptype=1) is exported beside it. Exits non-zero on any failed RESULT.
. "$(dirname "$0")/lib.sh"
modprobe scsi_debug dev_size_mb=64 num_tgts=1 max_luns=1 && modprobe st || bad "modprobe scsi_debug st"
# sg_of_model MODEL TYPE: the sg node of the local scsi_debug device of that SCSI type.
local_sg() {
  for d in /sys/bus/scsi/devices/*:*:*:*; do
    [ "$(cat $d/model 2>/dev/null | tr -d ' ')" = scsi_debug ] && [ "$(cat $d/type)" = "$1" ] || continue
    ls $d/scsi_generic | head -1; return
  done
}
LSG=$(local_sg 0)
LSD=$(ls /sys/class/scsi_generic/$LSG/device/block 2>/dev/null | head -1)
check "a scsi_debug disk ($LSG, $LSD)" test -n "$LSG" -a -n "$LSD"
check "stmfd started" start_stmfd
t "create the LU from the disk's block node"
"$BIN/stmfadm" create-lu -p provider=sg -p alias=sd-disk /dev/$LSD --json > $W/create.json 2>&1; cat $W/create.json
GUID=$(sed -n 's/.*"guid" *: *"\([0-9A-Fa-f]*\)".*/\1/p' $W/create.json | head -1)
check "stmfadm create-lu -p provider=sg" test -n "$GUID"
"$BIN/stmfadm" list-lu -v "$GUID" > $W/lu.txt 2>&1; cat $W/lu.txt
check "list-lu -v: the sg node, the device type, reservations emulated" sh -c "grep -q 'Data File *: /dev/$LSG' $W/lu.txt && grep -q 'Device Type *: disk' $W/lu.txt && grep -q 'Reservations *: emulated by STMF' $W/lu.txt"
check "list-lu -v: 64 MiB" grep -q "Size *: 67108864" $W/lu.txt
TPORT=2100001b32000011 IPORT=2100001b32000012 TPORT2=2100001b32000021 IPORT2=2100001b32000022
check "fcadm create-loop-port (nexus 1)" "$BIN/fcadm" create-loop-port -p $TPORT -i $IPORT
check "fcadm create-loop-port (nexus 2)" "$BIN/fcadm" create-loop-port -p $TPORT2 -i $IPORT2
check "stmfadm add-view" "$BIN/stmfadm" add-view "$GUID"
SD=$(wait_disk $TPORT); SD2=$(wait_disk $TPORT2)
SG=$(sg_of "$SD"); SG2=$(sg_of "$SD2")
check "the exported disk appeared on both nexuses ($SD $SG, $SD2 $SG2)" test -n "$SG" -a -n "$SG2"
[ -n "$SG" ] && [ -n "$SG2" ] || { finish; exit 1; }

t "identity"
sg_inq /dev/$SG > $W/inq.txt 2>&1; head -20 $W/inq.txt
check "sg_inq: the device's own vendor and product" sh -c "grep -q 'Vendor identification: Linux' $W/inq.txt && grep -q 'Product identification: scsi_debug' $W/inq.txt"
check "sg_inq: TPGS=1 (STMF answers port groups)" grep -q "TPGS=1" $W/inq.txt
sg_vpd -p 0x83 /dev/$LSG > $W/vpd-local.txt 2>&1
sg_vpd -p 0x83 /dev/$SG > $W/vpd.txt 2>&1; cat $W/vpd.txt
NAA=$(grep -A1 -m1 "NAA" $W/vpd-local.txt | tail -1 | tr -d ' ')
check "VPD 0x83: the device's NAA designator ($NAA)" sh -c "tr -d ' ' < $W/vpd.txt | grep -qi '$NAA'"
check "VPD 0x83: STMF's relative target port and target port name" sh -c "grep -qi 'Relative target port: 0x' $W/vpd.txt && grep -qi '0x$TPORT' $W/vpd.txt"
check "sg_rtpg answers (STMF)" sg_rtpg /dev/$SG
check "sg_readcap: 64 MiB" sh -c "sg_readcap /dev/$SG | grep -q 'Device size: 67108864 bytes'"

t "data"
dd if=/dev/urandom of=$W/blob bs=64k count=16 2>/dev/null
check "sg_dd writes 1 MiB through the export" sg_dd if=$W/blob of=/dev/$SG bs=512 seek=2048 count=2048 oflag=sgio
check "sg_dd reads it back from the local device" sg_dd if=/dev/$LSG of=$W/back bs=512 skip=2048 count=2048
check "the same bytes" cmp $W/blob $W/back

t "reservations across two nexuses, emulated"
check "sg_persist register (nexus 1)" sg_persist -n -o -G -S 0x1111 /dev/$SG
check "sg_persist register (nexus 2)" sg_persist -n -o -G -S 0x2222 /dev/$SG2
check "sg_persist reserve WE (nexus 1)" sg_persist -n -o -R -K 0x1111 -T 1 /dev/$SG
sg_persist -n -i -k /dev/$SG2 > $W/keys.txt 2>&1; cat $W/keys.txt
check "READ KEYS lists both keys" sh -c "grep -q 0x1111 $W/keys.txt && grep -q 0x2222 $W/keys.txt"
sg_dd if=/dev/zero of=/dev/$SG2 bs=512 seek=0 count=1 oflag=sgio > $W/conflict.txt 2>&1; cat $W/conflict.txt
check "nexus 2's write meets RESERVATION CONFLICT" grep -qi "reservation conflict" $W/conflict.txt
check "nexus 2 may still read" sg_dd if=/dev/$SG2 of=/dev/null bs=512 count=8
sg_persist -n -i -k /dev/$LSG > $W/local-keys.txt 2>&1; cat $W/local-keys.txt
check "the device itself holds no registration (nothing was forwarded)" sh -c "! grep -q 0x1111 $W/local-keys.txt"
check "sg_persist release and clear (nexus 1)" sh -c "sg_persist -n -o -L -K 0x1111 -T 1 /dev/$SG && sg_persist -n -o -C -K 0x1111 /dev/$SG"

t "restart: the LUs come back by the devices' designators"
kill -9 $STMFD; wait $STMFD 2>/dev/null
check "stmfd restarted" start_stmfd
for _ in $(seq 50); do "$BIN/stmfadm" list-lu -v "$GUID" 2>/dev/null | grep -q "Operational Status *: Online" && break; sleep 0.2; done
check "the disk LU is online again" sh -c "'$BIN/stmfadm' list-lu -v $GUID | grep -q 'Operational Status *: Online'"
check "and reads through the export" sg_dd if=/dev/$SG of=/dev/null bs=512 count=8

t "the device removed under I/O"
H=$(basename $(readlink -f /sys/class/scsi_generic/$LSG/device))
( sg_dd if=/dev/$SG of=/dev/null bs=512 count=65536 > $W/during.txt 2>&1 ) &
DD=$!
sleep 0.5
echo 1 > /sys/bus/scsi/devices/$H/delete
wait $DD; echo "dd exit $?"; cat $W/during.txt
check "stmfd lives on" kill -0 $STMFD
check "the export answers, with an error, not a hang" sh -c "timeout 60 sg_turs /dev/$SG; test \$? -ne 124"
for _ in $(seq 50); do "$BIN/stmfadm" list-lu -v "$GUID" | grep -q "Operational Status *: Offline" && break; sleep 0.2; done
"$BIN/stmfadm" list-lu -v "$GUID" > $W/lost.txt 2>&1; cat $W/lost.txt
check "the LU went offline with the reason" sh -c "grep -q 'Operational Status *: Offline' $W/lost.txt && grep -Eq 'Reason *: .*(gone|not on this machine)' $W/lost.txt"
# Over LIO the LU's TCMU devices and LUN links go with it, so the initiator's disk goes too.
for _ in $(seq 50); do [ -e /sys/block/$SD ] || break; sleep 0.2; done
check "the exported disk went away with the LU" test ! -e /sys/block/$SD

t "the device returns"
HOSTNUM=${H%%:*}
# scsi_debug's ptype is module-wide (INQUIRY reads it each time): while it says tape, the disk
# returns as a tape, which is not this LU's device (same designators, another nature).
echo 1 > /sys/bus/pseudo/drivers/scsi_debug/ptype
echo "- - -" > /sys/class/scsi_host/host$HOSTNUM/scan
sleep 7
"$BIN/stmfadm" list-lu -v "$GUID" > $W/changed.txt 2>&1; cat $W/changed.txt
check "a device of another nature at the same identity is refused" sh -c "grep -q 'Operational Status *: Offline' $W/changed.txt && grep -q 'Reason *: .*not on this machine' $W/changed.txt"
echo 1 > /sys/bus/scsi/devices/$H/delete
echo 0 > /sys/bus/pseudo/drivers/scsi_debug/ptype
echo "- - -" > /sys/class/scsi_host/host$HOSTNUM/scan
for _ in $(seq 100); do "$BIN/stmfadm" list-lu -v "$GUID" | grep -q "Operational Status *: Online" && break; sleep 0.2; done
"$BIN/stmfadm" list-lu -v "$GUID" > $W/back.txt 2>&1; cat $W/back.txt
check "the LU came back by its designators" grep -q "Operational Status *: Online" $W/back.txt
SD=$(wait_disk $TPORT); SG=$(sg_of "$SD")
check "the exported disk is back ($SD $SG)" test -n "$SG"
for _ in 1 2 3; do sg_turs /dev/$SG > /dev/null 2>&1 && break; done
check "the export reads the same data again" sh -c "sg_dd if=/dev/$SG of=$W/again bs=512 skip=2048 count=2048 && cmp $W/blob $W/again"
t "tape (scsi_debug's ptype=1, so the disk LU goes first)"
check "stmfadm delete-lu of the disk" "$BIN/stmfadm" delete-lu "$GUID"
echo 1 > /sys/bus/pseudo/drivers/scsi_debug/ptype && echo 1 > /sys/bus/pseudo/drivers/scsi_debug/add_host
for _ in $(seq 50); do TSG=$(local_sg 1); [ -n "$TSG" ] && break; sleep 0.2; done
check "a scsi_debug tape ($TSG)" test -n "$TSG"
TGUID=$("$BIN/stmfadm" create-lu -p provider=sg /dev/$TSG --json | sed -n 's/.*"guid" *: *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1)
check "create-lu of the tape" test -n "$TGUID"
check "add-view of the tape as LUN 1" "$BIN/stmfadm" add-view -n 1 "$TGUID"
# The tape as LUN 1 of a tcm_loop host (the local scsi_debug tape is on a scsi_debug host).
TSD=""
for _ in $(seq 100); do
  for h in /sys/class/scsi_host/host*; do
    [ "$(cat $h/proc_name 2>/dev/null)" = tcm_loopback ] || continue
    for d in /sys/bus/scsi/devices/${h##*/host}:0:*:1; do
      [ "$(cat $d/type 2>/dev/null)" = 1 ] && TSD=$(ls $d/scsi_generic 2>/dev/null | head -1)
    done
  done
  [ -n "$TSD" ] && break; sleep 0.2
done
check "the exported tape appeared ($TSD)" test -n "$TSD"
sg_inq /dev/$TSD > $W/tinq.txt 2>&1; head -8 $W/tinq.txt
check "sg_inq: a tape" grep -q "Peripheral device type: tape" $W/tinq.txt
# The first command of a new nexus meets a unit attention (STMF's or the device's).
for _ in 1 2 3; do sg_turs /dev/$TSD > $W/tur.txt 2>&1 && break; done
check "sg_turs on the tape" sg_turs /dev/$TSD
# READ BLOCK LIMITS answered through the export exactly as the device answers it (6.1's
# scsi_debug has no tape command set: both say ILLEGAL REQUEST; a real drive gives 6 bytes).
sg_raw -r 6 /dev/$TSG 05 00 00 00 00 00 > $W/rbl-local.txt 2>&1
sg_raw -r 6 /dev/$TSD 05 00 00 00 00 00 > $W/rbl.txt 2>&1; cat $W/rbl.txt
check "sg_raw READ BLOCK LIMITS: the export answers as the device" cmp $W/rbl-local.txt $W/rbl.txt

finish
