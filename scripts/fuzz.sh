#!/usr/bin/env bash
# Builds the libFuzzer executables (Fuzz/, release, fuzzer + address sanitizers) and runs each
# fuzz target on a scratch copy of its corpus, so Fuzz/corpus only grows with --merge.
#
#   scripts/fuzz.sh [--seconds N | --runs N] [--merge] [--no-build] [--jobs N] [target...]
#
# --seconds N   run each target for N seconds (-max_total_time; default 20)
# --runs N      run each target for N inputs instead (-runs)
# --merge       afterwards merge the inputs that add coverage into Fuzz/corpus/<target>/
# --no-build    use the executables already in .build-fuzz
# --jobs N      build jobs (default 1; the build runs under nice)
# target...     any of the names below (default: all)
#
# Prints, per target: executions, exec/s, coverage (libFuzzer's final cov:/ft:), new units,
# crashes. A crash (or leak, timeout, out-of-memory) saves the input under
# Fuzz/regressions/<target>/ and makes the script exit non-zero once every target has run.
# Interrupting a target (Ctrl-C, or SIGINT to the fuzz-<target> process) ends that target's run
# early: its figures are printed as "(interrupted)" and its corpus is still merged.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
# A Swift runtime trap must reach libFuzzer's deadly-signal handler (which saves the input);
# Swift's own backtracer would take the signal first and, under ASan, hang.
export SWIFT_BACKTRACE=enable=no

ALL_TARGETS=(frame els ct bls fcp cdb sgbridge api export metadata tcmu)
mode=(-max_total_time=20)
merge=0
build=1
jobs=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) mode=(-max_total_time="$2"); shift 2 ;;
        --runs) mode=(-runs="$2"); shift 2 ;;
        --merge) merge=1; shift ;;
        --no-build) build=0; shift ;;
        --jobs) jobs="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    case " ${ALL_TARGETS[*]} " in *" $t "*) ;; *) echo "fuzz.sh: unknown target $t (one of: ${ALL_TARGETS[*]})" >&2; exit 2 ;; esac
done

scratch=.build-fuzz
if [ "$build" = 1 ]; then
    echo "== building the fuzz executables (release, -sanitize=fuzzer,address)"
    start=$(date +%s)
    nice -n 15 swift build -j "$jobs" -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
        --package-path Fuzz --scratch-path "$scratch"
    echo "== build took $(( $(date +%s) - start )) s"
fi
bindir="$scratch/release"

work=$(mktemp -d /tmp/stmf-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=()
summary=()
for t in "${targets[@]}"; do
    bin="$bindir/fuzz-$t"
    [ -x "$bin" ] || { echo "fuzz.sh: $bin is missing (build first)" >&2; exit 1; }
    corpus="Fuzz/corpus/$t"
    [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "fuzz.sh: $corpus is missing or empty" >&2; exit 1; }
    run="$work/$t"
    mkdir -p "$run/corpus" "$run/artifacts"
    cp "$corpus"/* "$run/corpus/"
    log="$run/log"
    # cdb runs each command on the cooperative pool and waits for it; the pool frees the task
    # after the wait returns, so libFuzzer's per-input malloc/free balance never matches and
    # it would run a full leak scan after every input (300 instead of 2,000+ exec/s). Its
    # environment is torn down per input instead, and leaks show in a run with -detect_leaks=1.
    extra=()
    [ "$t" != cdb ] || extra=(-detect_leaks=0)
    echo "== fuzz-$t ${mode[*]} ${extra[*]}"
    set +e
    "$bin" "${mode[@]}" "${extra[@]}" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 -print_pcs=0 \
        -artifact_prefix="$run/artifacts/" "$run/corpus" >"$log" 2>&1
    rc=$?
    set -e
    # libFuzzer answers SIGINT by printing its final stats and exiting 72: a run stopped early.
    interrupted=""
    if [ "$rc" = 72 ] && grep -q "libFuzzer: run interrupted" "$log"; then
        rc=0
        interrupted=" (interrupted)"
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    added=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
    covline=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: [0-9]+' | tail -1 || true)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$covline")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$covline")
    crashes=0
    for a in "$run"/artifacts/*; do
        [ -e "$a" ] || continue
        crashes=$((crashes + 1))
        mkdir -p "Fuzz/regressions/$t"
        cp "$a" "Fuzz/regressions/$t/"
        echo "   saved $(basename "$a") to Fuzz/regressions/$t/"
    done
    if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then
        failed+=("$t")
        [ "$crashes" != 0 ] || crashes="exit $rc"
        echo "   fuzz-$t failed (exit $rc); the end of its log:"
        tail -40 "$log" | sed 's/^/   | /'
    fi
    if [ "$merge" = 1 ] && [ "$rc" = 0 ]; then
        "$bin" -merge=1 -rss_limit_mb=2048 "$corpus" "$run/corpus" >"$run/merge.log" 2>&1 \
            || { echo "fuzz.sh: merge of $t failed" >&2; tail -20 "$run/merge.log" >&2; exit 1; }
        echo "   merged into $corpus: $(grep -Eo '[0-9]+ new files with [0-9]+ new features' "$run/merge.log" | tail -1 || echo 'nothing new')"
    fi
    line=$(printf '%-9s executions %-10s exec/s %-7s cov %-6s ft %-7s new units %-5s crashes %s%s' \
        "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${added:-?}" "$crashes" "$interrupted")
    echo "   $line"
    summary+=("$line")
done

echo "== fuzz summary (${mode[*]})"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: crashes in: ${failed[*]} (inputs in Fuzz/regressions/; replay with .build-fuzz/release/fuzz-<target> FILE)" >&2
    exit 1
fi
