# Shared by scripts/conformance.sh (the emulated fabric) and the kernel-path guest scenario
# (Tests/KernelTests/guest/loop-conformance.sh): which libiscsi tests run, in which order, and how
# iscsi-test-cu's output is read. Sourced (bash).

# The suites of the LINUX family. MultipathIO goes first: in libiscsi 1.19 its COMPARE AND
# WRITE test initialises blocks 0-255 and then compares block 256 too (fixed upstream in
# 33c66f2, "Reduce maximum number of blocks from 256 to 255"), so it needs the fresh LU's zeroes.
LISTING=$(iscsi-test-cu -l)
LINUX_TESTS=$(printf '%s\n' "$LISTING" | grep '^LINUX\.[^.]*\.[^.]*$')
LINUX_SUITES=$(printf '%s\n' "$LINUX_TESTS" | cut -d. -f2 | awk '!seen[$0]++')
# The SCSI family's suites outside the LINUX family run over SG_IO too (persistent
# reservations, RESERVE(6), READ(6), START STOP UNIT, copy offload…); their tests that need a
# second iSCSI login skip themselves.
SCSI_TESTS=$(printf '%s\n' "$LISTING" | grep '^SCSI\.[^.]*\.[^.]*$' | grep -v -F -f <(printf 'SCSI.%s.\n' $LINUX_SUITES))
ALL_TESTS=$(printf '%s\n%s\n' "$LINUX_TESTS" "$SCSI_TESTS")
WP_EXCLUDED="WriteVerify10.Dpo WriteVerify12.Dpo WriteVerify16.Dpo"
# family.suite in the order run: MultipathIO first (see the notes).
SUITES="LINUX.MultipathIO $(printf '%s\n' "$ALL_TESTS" | cut -d. -f1,2 | awk '!seen[$0]++' | grep -v '^LINUX\.MultipathIO$' | tr '\n' ' ')"

# Reads iscsi-test-cu's normal output; prints "suite<TAB>test<TAB>result<TAB>reason" per test,
# result one of pass, skip, notimpl, fail, noresult.
parse() {
  awk -v OFS='\t' '
    function close_test(result) {
      if (test == "") return
      if (result == "pass" && reason != "") result = (reason ~ /is not implemented/) ? "notimpl" : "skip"
      print suite, test, result, reason
      test = ""; reason = ""
    }
    {
      line = $0
      if (line ~ /^Suite: /) { close_test("noresult"); suite = substr(line, 8); next }
      while ((i = index(line, "Test: ")) > 0) {
        close_test("noresult")
        rest = substr(line, i + 6)
        j = index(rest, " ...")
        if (j == 0) { test = rest; line = ""; break }
        test = substr(rest, 1, j - 1)
        line = substr(rest, j + 4)
      }
      if (test == "") next
      if ((k = index(line, "[SKIPPED] ")) > 0 && reason == "") {
        reason = substr(line, k + 10); sub(/[ \t]+$/, "", reason); sub(/\.$/, "", reason)
      }
      if (line ~ /passed[ \t]*$/) close_test("pass")
      else if (line ~ /FAILED[ \t]*$/) close_test("fail")
    }
    END { close_test("noresult") }'
}

