#!/usr/bin/env bash
# Installs the Debian packages swift-stmf needs to build and test, and schemathesis (PyPI) in a
# project-local virtualenv. Idempotent; never prompts.
set -euo pipefail
cd "$(dirname "$0")/.."

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
  libnl-3-dev libnl-genl-3-dev   # TCM-USER generic netlink: TCMU device events (Sources/TCMU through CModules/CNetlink)
  umockdev       # umockdev-run / umockdev-wrapper: fake FC HBAs in sysfs for the discovery tests
  gir1.2-umockdev-1.0  # the umockdev testbed from Python: hot-plug events in the discovery tests
  python3-gi     # GObject introspection for Python (the hot-plug harness)
  acl            # setfacl: the peer-access tests give a backing file a POSIX ACL
  curl           # the API as a client that is not the project's own sees it (tests)
  python3-prometheus-client  # the Prometheus client's own text parser: the metrics tests check /metrics with it
  systemd        # systemd-analyze: the tests verify dist/*.service and score their hardening offline
  mandoc         # mandoc -T lint: the tests check the man pages (man/man8) and regenerate-docs.sh lints them
  python3-venv   # python3 -m venv: the virtualenv schemathesis is installed in (below)
  # The QEMU kernel harness (scripts/kernel/): Debian's stock 6.1 kernel with LIO, booted under TCG
  qemu-system-x86  # qemu-system-x86_64 (-accel tcg, -virtfs): runs the guest kernel
  busybox-static   # the guest initramfs' /init and tools (statically linked)
  kmod             # modprobe --show-depends / depmod -b: the guest's module closure and modules.dep
  cpio             # packs the initramfs
  xz-utils         # unpacks the ELF vmlinux from the kernel's bzImage (PVH boot)
  e2fsprogs        # mkfs.ext4 / fsck.ext4 on LIO disks in the guest
  lsscsi           # lists the guest's SCSI devices (diagnostics in guest scenarios)
  tcmu-runner      # the reference TCMU daemon the kernel benchmark compares stmfd with (its qcow handler serves a raw file)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

# schemathesis, from PyPI, pinned: the contract test (Tests/ServiceTests/APIContractTests.swift,
# scripts/api-contract.py) holds a running stmfd to docs/openapi.yaml with it. In .build-venv
# (git-ignored, beside SwiftPM's .build so that `swift package clean` keeps it); reinstalled only
# from scratch when the pinned version is not the one there (or the virtualenv is broken).
schemathesis_version=4.32.5
venv=.build-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qx "schemathesis, version $schemathesis_version"; then
  rm -rf "$venv"
  # Debian's python3 (python3-venv above serves it), whatever else PATH has first.
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi
