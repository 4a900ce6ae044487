#!/bin/bash
# Guest scenario: the speed comparison of issue 14. In one boot, three LUNs over LIO tcm_loop, each
# backed by a file of the same size on the guest's tmpfs:
#   stmfd     — stmfd serving an SBD file LU through TCMU (fcadm create-loop-port + add-view),
#   fileio    — LIO's own fileio backstore (in the kernel, no userspace),
#   tcmu-runner — tcmu-runner serving a plain file through TCMU.
# fio (--direct=1, libaio) runs six jobs on each, the backends interleaved per job and the rounds
# repeated, and the medians are compared. Runs inside the QEMU guest (scripts/kernel/run-guest.sh,
# or scripts/kernel/bench.sh which builds the release binaries first), chrooted in the host's root
# with the repository as the working directory.
#
# Env: STMF_BIN (default $PWD/.build/release), STMF_BENCH_SECONDS (fio runtime per job and backend,
# default 5, plus 1 s ramp), STMF_BENCH_ROUNDS (default 3), STMF_BENCH_SIZE_MB (default 256),
# STMF_KERNEL_OUT (bench.md, bench-runs.tsv, logs).
#
# Measures per run: fio's IOPS, MB/s and p50 latency (submission + completion, --lat_percentiles;
# fio's JSON), and the guest's CPU per I/O: the non-idle jiffies of /proc/stat (user nice system irq
# softirq steal, all CPUs) over a window inside the backend's run divided by the I/Os the disk
# completed in that window (its sectors in /sys/block/sdX/stat over the job's block size). stmfd,
# tcmu-runner, fio and the kernel all run in the guest, so this is the whole cost of an I/O. The
# window starts 0.5 s after the disk's first I/O and ends 1.5 s before that backend's fio job does,
# so fio's start-up and exit are not in it. scripts/kernel/bench.sh boots the guest with
# clocksource=tsc (fio's and stmfd's clock reads are then vDSO calls, not HPET system calls).
set -u
BIN=${STMF_BIN:-$PWD/.build/release}
SECS=${STMF_BENCH_SECONDS:-5}
ROUNDS=${STMF_BENCH_ROUNDS:-3}
SIZE_MB=${STMF_BENCH_SIZE_MB:-256}
OUT=${STMF_KERNEL_OUT:-}
BYTES=$((SIZE_MB * 1024 * 1024))
CFG=/sys/kernel/config/target
fails=0
ok() { echo "RESULT: ok $*"; }
bad() { echo "RESULT: FAIL $*"; fails=$((fails + 1)); }
t() { echo "T+$(cut -d' ' -f1 /proc/uptime) $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
die() { bad "$*"; dump_logs; exit 1; }
disks() { echo $(ls /sys/block | grep '^sd' | sort); }
# new_disk "LIST": waits up to 30 s for an sd disk that is not in LIST and prints it.
new_disk() {
  local d
  for _ in $(seq 150); do
    for d in $(disks); do
      case " $1 " in *" $d "*) ;; *) echo "$d"; return 0 ;; esac
    done
    sleep 0.2
  done
  return 1
}
dump_logs() {
  echo "---- stmfd log (tail) ----"; tail -30 "$W/stmfd.log" 2>/dev/null
  echo "---- tcmu-runner log (tail) ----"; tail -30 "$W/tcmu-runner.log" 2>/dev/null; tail -10 "$W/tcmu-runner.out" 2>/dev/null
  echo "---- dmesg (tail) ----"; dmesg | tail -30
  if [ -n "$OUT" ]; then
    cp "$W/stmfd.log" "$OUT/stmfd.log" 2>/dev/null
    cp "$W/tcmu-runner.log" "$OUT/tcmu-runner.log" 2>/dev/null
    dmesg > "$OUT/dmesg.txt" 2>/dev/null
  fi
}

t "bench: ${SECS}s per run, $ROUNDS round(s), ${SIZE_MB} MiB files, binaries $BIN"
for b in stmfd stmfadm sbdadm fcadm; do [ -x "$BIN/$b" ] || { bad "no $BIN/$b (build it: scripts/kernel/bench.sh)"; exit 1; }; done
command -v fio >/dev/null || { bad "no fio"; exit 1; }
command -v tcmu-runner >/dev/null || { bad "no tcmu-runner (scripts/install-deps.sh installs it)"; exit 1; }
modprobe -a target_core_mod target_core_user target_core_file tcm_loop sd_mod sg || bad "modprobe"
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
W=$(mktemp -d /tmp/bench.XXXXXX)
df -m /tmp | tail -1
free -m | sed -n 2p

# --- tcmu-runner first (it reattaches to nothing yet; later devices reach it by netlink) -------------
# Debian's tcmu-runner ships the handlers qcow, rbd, file_optical and file_zbc, not upstream's
# example "file" handler (built there but never installed). The qcow handler opens an image that
# is neither qcow nor qcow2 as raw (qcow.c: bdev_open → raw_probe/raw_preadv/raw_pwritev, the size
# must equal dev_size): plain preadv/pwritev on the file, the same code as file_example.c's
# file_read/file_write, with nr_threads 1 (file_example: 2).
t "tcmu-runner"
tcmu-runner -l "$W" > "$W/tcmu-runner.out" 2>&1 &
RUNNER=$!
for _ in $(seq 50); do grep -qi 'handler\|register' "$W/tcmu-runner.out" "$W/tcmu-runner.log" 2>/dev/null && break; sleep 0.2; done
sleep 1
check "tcmu-runner running (pid $RUNNER)" kill -0 $RUNNER

# --- stmfd: SBD file LU over its loop port ---------------------------------------------------------
t "stmfd"
export STMF_STATE_DIR=$W/state
# stmfd's HBA watch rescans every 2 s and each scan reads and parses the kernel's whole
# modules.alias (1.3 MB here): ~0.7-0.9 guest CPU under TCG, all the time, whatever the data path
# does. This guest has no FC HBA, so by default the bench points the table at a file that does not
# exist (STMF_MODULES_ALIAS, read by stmfd) to keep that idle cost out of every backend's figures;
# STMF_BENCH_HBA_SCAN=1 leaves it on.
if [ "${STMF_BENCH_HBA_SCAN:-0}" != 1 ]; then export STMF_MODULES_ALIAS=$W/no-modules.alias; fi
if [ -n "${STMF_MODULES_ALIAS:-}" ]; then echo "stmfd HBA scan: modules.alias hidden (STMF_MODULES_ALIAS=$STMF_MODULES_ALIAS)"; else echo "stmfd HBA scan: on"; fi
mkdir -p "$STMF_STATE_DIR"
SWIFT_BACKTRACE=enable=yes,interactive=no,color=no "$BIN/stmfd" --state-dir "$STMF_STATE_DIR" >"$W/stmfd.log" 2>&1 &
STMFD=$!
for _ in $(seq 300); do [ -S "$STMF_STATE_DIR/stmf.sock" ] && break; sleep 0.1; done
check "stmfd started" test -S "$STMF_STATE_DIR/stmf.sock"
GUID=$("$BIN/sbdadm" create-lu -s "${SIZE_MB}m" "$W/stmfd.img" --json | sed -n 's/.*"guid" *: *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1)
[ -n "$GUID" ] || die "sbdadm create-lu"
# Allocate the whole file now (contents kept), as for the other two: no backend pays tmpfs page
# allocation on first write.
fallocate -l "$(stat -c %s "$W/stmfd.img")" "$W/stmfd.img"
TPORT=2100001b32000011 IPORT=2100001b32000012
"$BIN/fcadm" create-loop-port -p $TPORT -i $IPORT || die "fcadm create-loop-port"
before=$(disks)
"$BIN/stmfadm" add-view "$GUID" || die "stmfadm add-view"
SD_STMFD=$(new_disk "$before") || die "the stmfd LU did not appear as a disk"
ok "stmfd: LU $GUID is /dev/$SD_STMFD"

# --- LIO fileio -------------------------------------------------------------------------------------
t "fileio"
fallocate -l $BYTES "$W/fileio.img"
D=$CFG/core/fileio_1/bench
WF=naa.5001405f11e00001
mkdir -p "$D" &&
  printf %s "fd_dev_name=$W/fileio.img,fd_dev_size=$BYTES" > "$D/control" &&
  printf 1 > "$D/enable" &&
  printf %s 5a1e5a1e-0000-4000-8000-0000000000f1 > "$D/wwn/vpd_unit_serial" || die "fileio backstore"
before=$(disks)
mkdir -p $CFG/loopback/$WF/tpgt_1/lun/lun_0 &&
  printf %s naa.5001405f11e00002 > $CFG/loopback/$WF/tpgt_1/nexus &&
  ln -s "$D" $CFG/loopback/$WF/tpgt_1/lun/lun_0/bench || die "fileio tcm_loop target"
SD_FILEIO=$(new_disk "$before") || die "the fileio LUN did not appear as a disk"
ok "fileio: /dev/$SD_FILEIO"

# --- tcmu-runner: TCMU HBA user_10 (stmfd's is user_4711) -------------------------------------------
t "tcmu-runner device"
fallocate -l $BYTES "$W/tcmu.img"
U=$CFG/core/user_10/bench
WU=naa.50014051c0000001
# The same transfer limit as stmfd's devices (1 MiB; TCMU's default is 64 KiB): 1 MiB I/O is one
# command on both.
mkdir -p "$U" &&
  printf %s "dev_size=$BYTES,dev_config=qcow/$W/tcmu.img,hw_max_sectors=2048" > "$U/control" &&
  printf 1 > "$U/enable" &&
  printf %s 5a1e5a1e-0000-4000-8000-0000000000c1 > "$U/wwn/vpd_unit_serial" || die "TCMU backstore for tcmu-runner"
sleep 1
grep -i 'not qcow\|raw' "$W/tcmu-runner.log" 2>/dev/null | tail -2
before=$(disks)
mkdir -p $CFG/loopback/$WU/tpgt_1/lun/lun_0 &&
  printf %s naa.50014051c0000002 > $CFG/loopback/$WU/tpgt_1/nexus &&
  ln -s "$U" $CFG/loopback/$WU/tpgt_1/lun/lun_0/bench || die "tcmu-runner tcm_loop target"
SD_RUNNER=$(new_disk "$before") || die "the tcmu-runner LUN did not appear as a disk"
ok "tcmu-runner: /dev/$SD_RUNNER"

lsscsi 2>/dev/null
echo "guest clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
declare -A DEV=([stmfd]=$SD_STMFD [fileio]=$SD_FILEIO [tcmu-runner]=$SD_RUNNER)
BACKENDS="stmfd fileio tcmu-runner"
for b in $BACKENDS; do
  d=${DEV[$b]}
  # The block layer the same for all: no I/O scheduler, no merging heuristics beyond the default.
  echo none > /sys/block/$d/queue/scheduler 2>/dev/null
  echo "$b /dev/$d: $(cat /sys/block/$d/size) sectors, max_sectors_kb $(cat /sys/block/$d/queue/max_sectors_kb)," \
       "max_hw_sectors_kb $(cat /sys/block/$d/queue/max_hw_sectors_kb), queue_depth $(cat /sys/block/$d/device/queue_depth)," \
       "write cache $(cat /sys/block/$d/queue/write_cache), scheduler $(cat /sys/block/$d/queue/scheduler)"
  [ "$(cat /sys/block/$d/size)" -eq $((BYTES / 512)) ] || bad "$b: /dev/$d is not ${SIZE_MB} MiB"
done

# --- runs --------------------------------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
# Builtins only (no fork inside a measurement window): snap DISK sets S_T (uptime), S_BUSY (non-idle
# jiffies, all CPUs), S_SECT/S_IOS (the disk's sectors and requests completed), S_M/S_N (stmfd's and
# tcmu-runner's CPU ticks).
snap() {
  local _c u n s i w q sq st _r f
  read -r S_T _r < /proc/uptime
  read -r _c u n s i w q sq st _r < /proc/stat; S_BUSY=$((u + n + s + q + sq + st))
  read -r -a f < /sys/block/$1/stat; S_SECT=$((f[2] + f[6])); S_IOS=$((f[0] + f[4]))
  S_M=0; read -r -a f < /proc/$STMFD/stat 2>/dev/null && S_M=$((f[13] + f[14]))
  S_N=0; read -r -a f < /proc/$RUNNER/stat 2>/dev/null && S_N=$((f[13] + f[14]))
}
sectors_of() { local f; read -r -a f < /sys/block/$1/stat; SECT=$((f[2] + f[6])); }
# now_cs: CS = uptime in centiseconds; sleep_until T: sleeps until uptime T (centiseconds).
now_cs() { local u _r; read -r u _r < /proc/uptime; u=${u/./}; CS=$((10#$u)); }
sleep_until() { now_cs; local d=$(($1 - CS)); [ $d -gt 0 ] && sleep "$(printf '%d.%02d' $((d / 100)) $((d % 100)))"; }
# CPU time (utime + stime, clock ticks) of every thread of every process, "pid/tid comm ticks".
threads() { local f; for f in /proc/[0-9]*/task/[0-9]*/stat; do read -r l < "$f" 2>/dev/null && echo "$l"; done 2>/dev/null |
  awk '{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*/, "", c); n = split($0, a, ") "); split(a[n], b, " "); print $1, c, b[12] + b[13] }'; }
snap "$SD_STMFD"; idle_b0=$S_BUSY; threads > "$W/idle0"; sleep 5; snap "$SD_STMFD"; idle_b1=$S_BUSY; threads > "$W/idle1"
echo "idle guest: $(( (idle_b1 - idle_b0) * 1000 / (5 * HZ) )) ms CPU per second (all CPUs, this script's own sampling included) with the three LUNs set up; busiest threads (ms/s):"
awk -v hz="$HZ" 'NR == FNR { t[$1] = $3; next } { d = $3 - t[$1]; if (d > 0) printf "  %6.0f %s (%s)\n", d * 1000 / hz / 5, $2, $1 }' "$W/idle0" "$W/idle1" | sort -rn | head -8

JOBS="4k-randread-qd1 4k-randwrite-qd1 4k-randread-qd32 4k-randwrite-qd32 1m-read-qd4 1m-write-qd4"
jobargs() {
  case $1 in
    4k-randread-qd1) echo "--rw=randread --bs=4k --iodepth=1" ;;
    4k-randwrite-qd1) echo "--rw=randwrite --bs=4k --iodepth=1" ;;
    4k-randread-qd32) echo "--rw=randread --bs=4k --iodepth=32" ;;
    4k-randwrite-qd32) echo "--rw=randwrite --bs=4k --iodepth=32" ;;
    1m-read-qd4) echo "--rw=read --bs=1M --iodepth=4" ;;
    1m-write-qd4) echo "--rw=write --bs=1M --iodepth=4" ;;
  esac
}
jobbs() { case $1 in 1m-*) echo 1048576 ;; *) echo 4096 ;; esac; }
RUNS=$W/runs.tsv
printf 'round\tjob\tbackend\tjson\tt0\tt1\tbusy_jiffies\twindow_sectors\twindow_requests\tstmfd_jiffies\trunner_jiffies\tbs\n' > "$RUNS"
# The window: from 0.5 s after the backend's first I/O (inside fio's 1 s ramp) to 1.5 s before that
# backend's job ends (first I/O + 1 s ramp + SECS), by the guest's clock whatever sleep overshoots.
win_end=$(( (1 + SECS) * 100 - 150 )); [ $win_end -lt 150 ] && win_end=150
read -r -a ORDER0 <<< "$BACKENDS"
for r in $(seq "$ROUNDS"); do
  # One fio per job and round, the three backends one after another (stonewall): fio's start-up
  # (2-4 s under TCG, 64 shared libraries) is paid once per job, not per backend. The order
  # rotates with the round.
  k=$(( (r - 1) % 3 ))
  ORDER=("${ORDER0[@]:k}" "${ORDER0[@]:0:k}")
  for j in $JOBS; do
    json=$W/r$r-$j.json
    args=()
    declare -A S0=()
    for b in "${ORDER[@]}"; do
      args+=(--name="$b" --filename="/dev/${DEV[$b]}" --stonewall)
      sectors_of "${DEV[$b]}"; S0[$b]=$SECT
    done
    read -r ts _ < /proc/uptime
    # shellcheck disable=SC2046
    fio --direct=1 --ioengine=libaio $(jobargs "$j") --time_based --runtime="$SECS" --ramp_time=1 \
        --clocksource=clock_gettime --lat_percentiles=1 --output-format=json --output="$json" "${args[@]}" >"$W/fio.err" 2>&1 &
    FIO=$!
    lines=()
    for b in "${ORDER[@]}"; do
      d=${DEV[$b]}
      for _ in $(seq 600); do sectors_of "$d"; [ "$SECT" != "${S0[$b]}" ] && break; kill -0 $FIO 2>/dev/null || break; sleep 0.05; done
      read -r tio _ < /proc/uptime; now_cs; c0=$CS
      sleep_until $((c0 + 50))
      snap "$d"; t0=$S_T b0=$S_BUSY x0=$S_SECT q0=$S_IOS m0=$S_M n0=$S_N
      sleep_until $((c0 + win_end))
      snap "$d"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$j" "$b" "$json" "$t0" "$S_T" $((S_BUSY - b0)) \
        $((S_SECT - x0)) $((S_IOS - q0)) $((S_M - m0)) $((S_N - n0)) "$(jobbs "$j")" >> "$RUNS"
      lines+=("round $r $j $b: $(( (S_SECT - x0) * 512 / $(jobbs "$j") )) I/Os, CPU $(( (S_BUSY - b0) * 1000 / HZ )) ms (stmfd $(( (S_M - m0) * 1000 / HZ )), tcmu-runner $(( (S_N - n0) * 1000 / HZ ))) in $t0..$S_T; first I/O at $tio")
    done
    wait $FIO || bad "fio $j: $(tail -3 "$W/fio.err")"
    read -r te _ < /proc/uptime
    printf '%s\n' "${lines[@]}"
    echo "T+$te round $r $j: fio started at $ts"
    unset S0
  done
done
kill -0 $STMFD 2>/dev/null || bad "stmfd died during the runs"
kill -0 $RUNNER 2>/dev/null || bad "tcmu-runner died during the runs"

# --- table --------------------------------------------------------------------------------------------
python3 - "$RUNS" "$HZ" "$SECS" "$ROUNDS" "$SIZE_MB" "${OUT:-$W}" "${DEV[stmfd]}" "${DEV[fileio]}" "${DEV[tcmu-runner]}" <<'EOF'
import csv, json, statistics, sys
runs, hz, secs, rounds, size_mb, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
devs = dict(zip(["stmfd", "fileio", "tcmu-runner"], sys.argv[7:10]))
backends = ["stmfd", "fileio", "tcmu-runner"]
jobs = ["4k-randread-qd1", "4k-randwrite-qd1", "4k-randread-qd32", "4k-randwrite-qd32", "1m-read-qd4", "1m-write-qd4"]
m = {}
per_round = {}

def f(x, d=0):
    return "—" if x is None else ("%.*f" % (d, x))

tsv = ["round\tjob\tbackend\tiops\tMB_s\tp50_us\tcpu_us_per_io\tcpu_us_per_io_others_excluded\twindow_iops\twindow_requests\twindow_s\tstmfd_jiffies\trunner_jiffies"]
for row in csv.DictReader(open(runs), delimiter="\t"):
    jobs_ = json.load(open(row["json"]))["jobs"]
    j = next(x for x in jobs_ if x["jobname"] == row["backend"])
    rw = [j[k] for k in ("read", "write") if j[k]["total_ios"] > 0]
    if not rw:
        continue
    iops = sum(x["iops"] for x in rw)
    mbs = sum(x["bw_bytes"] for x in rw) / 1e6
    pct = (rw[0].get("lat_ns") or {}).get("percentile") or rw[0]["clat_ns"]["percentile"]
    p50 = pct["50.000000"] / 1000
    window = float(row["t1"]) - float(row["t0"])
    wios = int(row["window_sectors"]) * 512 // int(row["bs"])
    wiops = wios / window if window > 0 else 0
    # A window that saw less than half of fio's rate for the job was not inside the steady run
    # (misplaced by a stall or a late start): it gives no CPU figure.
    ok = wios > 0 and wiops >= 0.5 * iops
    cpu = float(row["busy_jiffies"]) * 1e6 / hz / wios if ok else None
    # The same without the CPU of the daemons that do not serve this run (idle work of theirs).
    others = (int(row["stmfd_jiffies"]) if row["backend"] != "stmfd" else 0) + (int(row["runner_jiffies"]) if row["backend"] != "tcmu-runner" else 0)
    cpu_x = (float(row["busy_jiffies"]) - others) * 1e6 / hz / wios if ok else None
    m.setdefault((row["job"], row["backend"]), []).append((iops, mbs, p50, cpu, cpu_x))
    per_round[(row["round"], row["job"], row["backend"])] = (iops, mbs, p50, cpu, cpu_x)
    tsv.append("\t".join([row["round"], row["job"], row["backend"], "%.1f" % iops, "%.2f" % mbs, "%.1f" % p50, f(cpu, 1), f(cpu_x, 1),
                          "%.1f" % wiops, row["window_requests"], "%.2f" % window, row["stmfd_jiffies"], row["runner_jiffies"]]))
open(out + "/bench-runs.tsv", "w").write("\n".join(tsv) + "\n")
def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

med = {k: tuple(median(x[i] for x in v) for i in range(5)) for k, v in m.items()}
n = {k: len(v) for k, v in m.items()}

lines = []
lines.append("Medians of %s round(s), %s s per run (after 1 s ramp), %s MiB files on tmpfs; guest CPU per I/O in µs of "
             "non-idle CPU time (all guest CPUs) per completed I/O; \"excl.\": without the CPU time of the daemons not serving the run." % (rounds, secs, size_mb))
lines.append("")
lines.append("| job | backend | IOPS | MB/s | p50 µs | CPU µs/I/O | excl. | runs |")
lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
for jb in jobs:
    for b in backends:
        v = med.get((jb, b))
        if v is None:
            lines.append("| %s | %s | — | — | — | — | — | 0 |" % (jb, b))
        else:
            nc = sum(1 for x in m[(jb, b)] if x[3] is not None)
            runs = "%d" % n[(jb, b)] if nc == n[(jb, b)] else "%d (CPU %d)" % (n[(jb, b)], nc)
            lines.append("| %s | %s | %.0f | %.1f | %.0f | %s | %s | %s |" % (jb, b, v[0], v[1], v[2], f(v[3]), f(v[4]), runs))
lines.append("")
lines.append("| job | stmfd/tcmu-runner IOPS | stmfd/tcmu-runner MB/s | stmfd/fileio IOPS | stmfd/fileio CPU per I/O | excl. | stmfd/tcmu-runner CPU per I/O |")
lines.append("|---|---:|---:|---:|---:|---:|---:|")

def ratio(jb, a, b, i):
    x, y = med.get((jb, a)), med.get((jb, b))
    return x[i] / y[i] if x and y and x[i] is not None and y[i] else None

def spread(jb, a, b, i):
    # The lowest and highest of the per-round ratios (each round's pair ran back to back).
    rs = sorted(per_round[(r, jb, a)][i] / per_round[(r, jb, b)][i] for r in {k[0] for k in per_round}
                if (r, jb, a) in per_round and (r, jb, b) in per_round and per_round[(r, jb, a)][i] is not None and per_round[(r, jb, b)][i])
    return "%.2f–%.2f" % (rs[0], rs[-1]) if rs else "—"

for jb in jobs:
    lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (jb, f(ratio(jb, "stmfd", "tcmu-runner", 0), 2), f(ratio(jb, "stmfd", "tcmu-runner", 1), 2),
                                                           f(ratio(jb, "stmfd", "fileio", 0), 2), f(ratio(jb, "stmfd", "fileio", 3), 2),
                                                           f(ratio(jb, "stmfd", "fileio", 4), 2), f(ratio(jb, "stmfd", "tcmu-runner", 3), 2)))
lines.append("")
lines.append("| aim | measured (ratio of medians) | per-round ratios | met |")
lines.append("|---|---:|---:|---|")
aims = [("4k-randread-qd1", "stmfd/tcmu-runner IOPS ≥ 2", "tcmu-runner", 0, lambda r: r >= 2),
        ("4k-randwrite-qd1", "stmfd/tcmu-runner IOPS ≥ 2", "tcmu-runner", 0, lambda r: r >= 2),
        ("1m-read-qd4", "stmfd/tcmu-runner MB/s ≥ 2", "tcmu-runner", 1, lambda r: r >= 2),
        ("1m-write-qd4", "stmfd/tcmu-runner MB/s ≥ 2", "tcmu-runner", 1, lambda r: r >= 2),
        ("4k-randread-qd32", "stmfd/fileio CPU per I/O ≤ 1.2", "fileio", 3, lambda r: r <= 1.2),
        ("4k-randwrite-qd32", "stmfd/fileio CPU per I/O ≤ 1.2", "fileio", 3, lambda r: r <= 1.2)]
for jb, what, other, i, good in aims:
    r = ratio(jb, "stmfd", other, i)
    lines.append("| %s: %s | %s | %s | %s |" % (jb, what, f(r, 2), spread(jb, "stmfd", other, i),
                                              "—" if r is None else ("met" if good(r) else "NOT MET")))
lines.append("")
lines.append("Devices: " + ", ".join("%s /dev/%s" % (b, devs[b]) for b in backends) + ".")
text = "\n".join(lines) + "\n"
open(out + "/bench.md", "w").write(text)
print(text)
EOF
[ $? -eq 0 ] || bad "the table"
[ -n "$OUT" ] && mkdir -p "$OUT/fio" && cp "$W"/r*.json "$OUT/fio/" && cp "$RUNS" "$OUT/bench-windows.tsv"

# --- teardown (disks first, TCMU devices before their handlers stop) ---------------------------------
t "teardown"
for W2 in $WF $WU; do
  for l in $CFG/loopback/$W2/tpgt_1/lun/lun_0/*; do [ -L "$l" ] && rm -f "$l"; done
  rmdir $CFG/loopback/$W2/tpgt_1/lun/lun_0 2>/dev/null
  printf NULL > $CFG/loopback/$W2/tpgt_1/nexus 2>/dev/null
  rmdir $CFG/loopback/$W2/tpgt_1 $CFG/loopback/$W2 2>/dev/null
done
rmdir "$D" $CFG/core/fileio_1 2>/dev/null
rmdir "$U" $CFG/core/user_10 2>/dev/null
"$BIN/stmfadm" remove-view -l "$GUID" -a || bad "stmfadm remove-view"
for _ in $(seq 50); do [ -e /sys/block/$SD_STMFD ] || break; sleep 0.2; done
kill -TERM $STMFD; wait $STMFD
check "stmfd stopped cleanly" test $? -eq 0
kill -TERM $RUNNER; wait $RUNNER 2>/dev/null
grep -iE 'error|fatal|crash|broken' "$W/stmfd.log" | head -20
dump_logs >/dev/null 2>&1
[ -n "$OUT" ] && dmesg | grep -iE 'tcmu|target|tcm_loop|sd .*(error|fail)' | tail -30
[ $fails -eq 0 ]
