#!/usr/bin/env bash
# Installs the Debian packages swift-stmf needs to build and test. Idempotent; never prompts.
set -euo pipefail

packages=(
  sg3-utils      # sg_inq / sg_vpd / sg_decode_sense: third-party decoders the tests check our bytes with
  util-linux     # fallocate, losetup
  tshark         # Wireshark's dissectors: the tests check captured FC frames with them
  fio            # fio --ioengine=sg through fcinit exec (tests, benchmarks)
  libiscsi-bin   # iscsi-test-cu: libiscsi's SCSI conformance suite, run over SG_IO through fcinit exec
  libudev-dev    # libudev: HBA discovery and hot-plug (Sources/Udev through CModules/CUdev)
  pkg-config     # finds libudev and liburing for the build
  linux-libc-dev # <linux/target_core_user.h>: the TCMU ring layout (Sources/TCMU through CModules/CTCMU)
  liburing-dev   # io_uring: file and block LU I/O completed on the event loops (Sources/Runtime through CModules/CURing)
  umockdev       # umockdev-run / umockdev-wrapper: fake FC HBAs in sysfs for the discovery tests
  gir1.2-umockdev-1.0  # the umockdev testbed from Python: hot-plug events in the discovery tests
  python3-gi     # GObject introspection for Python (the hot-plug harness)
  curl           # the API as a client that is not the project's own sees it (tests)
  python3-prometheus-client  # the Prometheus client's own text parser: the metrics tests check /metrics with it
  systemd        # systemd-analyze: the tests verify dist/*.service and score their hardening offline
  mandoc         # mandoc -T lint: the tests check the man pages (man/man8) and regenerate-docs.sh lints them
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
