#!/bin/bash
# Guest scenario: libiscsi's conformance suite (iscsi-test-cu, the same tests and order as
# scripts/conformance.sh) against an SBD file LU served by stmfd through LIO tcm_loop and TCMU,
# over two nexuses (two loop targets, the guest's two sg devices of the one LU as the suite's
# multipath argument). The kernel answers REPORT LUNS itself and passes everything else on.
# RESULT: ok when no test failed or went without a result; the counts and failures are printed.
. "$(dirname "$0")/lib.sh"
. scripts/conformance-lib.sh
check "stmfd started" start_stmfd
GUID=$(new_lu 64m)
T1=2100001b32000041 I1=2100001b32000042 T2=2100001b32000051 I2=2100001b32000052
"$BIN/fcadm" create-loop-port -p $T1 -i $I1 && "$BIN/fcadm" create-loop-port -p $T2 -i $I2 && "$BIN/stmfadm" add-view "$GUID"
A=$(wait_disk $T1); B=$(wait_disk $T2)
check "two disks of the LU ($A, $B)" test -n "$A" -a -n "$B"
[ -n "$A" ] && [ -n "$B" ] || { finish; exit 1; }
GA=/dev/$(sg_of $A) GB=/dev/$(sg_of $B)
start=$(date +%s)
for s in ${STMF_CONFORMANCE_SUITES:-$SUITES}; do
  iscsi-test-cu -d -t "$s" "$GA" "$GB"
done > $W/suite.log 2>&1
end=$(date +%s)
parse < $W/suite.log > $W/suite.tsv
if [ -z "${STMF_CONFORMANCE_SUITES:-}" ]; then
  printf '%s\n' "$ALL_TESTS" | cut -d. -f2,3 | while IFS=. read -r s t; do
    grep -q "^$s	$t	" $W/suite.tsv || printf '%s\t%s\tnoresult\tno result in the output\n' "$s" "$t"
  done >> $W/suite.tsv
fi
awk -F'\t' '{ n[$3]++ } END { printf "CONFORMANCE: %d tests: %d passed, %d skipped, %d not implemented, %d failed, %d without result\n", NR, n["pass"], n["skip"], n["notimpl"], n["fail"], n["noresult"] }' $W/suite.tsv
echo "CONFORMANCE: $((end - start)) s"
awk -F'\t' '$3 == "fail" || $3 == "noresult" { print "CONFORMANCE FAILED " $1 "." $2 }' $W/suite.tsv
awk -F'\t' '$3 == "skip" || $3 == "notimpl" { print "CONFORMANCE SKIPPED " $1 "." $2 ": " $4 }' $W/suite.tsv | sort | uniq | head -80
[ -n "${STMF_KERNEL_OUT:-}" ] && cp $W/suite.tsv $W/suite.log "$STMF_KERNEL_OUT/" 2>/dev/null
check "conformance suite: no test failed" sh -c "! grep -qP '\t(fail|noresult)\t' $W/suite.tsv"
check "conformance suite ran tests" test -s $W/suite.tsv
grep -n FAILED $W/suite.log | head -30
kill -TERM $STMFD; wait $STMFD
finish
