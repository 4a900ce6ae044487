#!/usr/bin/env bash
# Fetches Debian's stock 6.1 kernel for the QEMU kernel harness (scripts/kernel/) into
# $STMF_KERNEL_DIR (default <repo>/.build-kernel):
#   <dir>/<kver>/<package>.deb          apt-get download of linux-image-6.1.0-NN-amd64
#   <dir>/<kver>/kroot/                 dpkg -x of it, with modules.dep (depmod -b: the package has none)
#   <dir>/<kver>/vmlinux                the ELF kernel out of the bzImage (QEMU boots it directly, PVH)
#   <dir>/kernel.env                    KVER=, PKG=, PKGVER= of the fetched kernel (read by the other scripts)
# Idempotent: does nothing when kernel.env names a complete fetch. The package is the one
# linux-image-amd64 depends on when that is a 6.1 image, else the newest linux-image-6.1.0-NN-amd64
# apt knows; STMF_KERNEL_PACKAGE=linux-image-6.1.0-NN-amd64 picks one (and replaces a fetched other).
# Needs apt (sources configured), dpkg, kmod (depmod), xz-utils: scripts/install-deps.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
kdir=${STMF_KERNEL_DIR:-$repo/.build-kernel}
mkdir -p "$kdir"
kdir=$(cd "$kdir" && pwd)
say() { echo "fetch-kernel: $*"; }
DEPMOD=/usr/sbin/depmod; [ -x "$DEPMOD" ] || DEPMOD=/sbin/depmod

complete() { # $1 = kver: all pieces there?
  [ -s "$kdir/$1/vmlinux" ] && [ -s "$kdir/$1/kroot/lib/modules/$1/modules.dep" ] &&
    [ -d "$kdir/$1/kroot/lib/modules/$1/kernel/drivers/target" ]
}

if [ -f "$kdir/kernel.env" ]; then
  # shellcheck disable=SC1091
  . "$kdir/kernel.env"
  if complete "$KVER" && { [ -z "${STMF_KERNEL_PACKAGE:-}" ] || [ "$STMF_KERNEL_PACKAGE" = "$PKG" ]; }; then
    say "already fetched: $PKG $PKGVER (kernel $KVER) in $kdir/$KVER"
    exit 0
  fi
fi

# Which package.
pick() {
  local p
  p=$(apt-cache depends linux-image-amd64 2>/dev/null |
      awk '$1=="Depends:" && $2 ~ /^linux-image-6\.1\.0-[0-9]+-amd64$/ {print $2; exit}')
  if [ -z "$p" ]; then
    p=$(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' |
        sort -V | tail -1)
  fi
  echo "$p"
}
pkg=${STMF_KERNEL_PACKAGE:-$(pick)}
if [ -z "$pkg" ] || ! apt-cache show "$pkg" >/dev/null 2>&1; then
  say "no linux-image-6.1 package known to apt; running apt-get update"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  pkg=${STMF_KERNEL_PACKAGE:-$(pick)}
fi
[ -n "$pkg" ] || { say "ERROR: apt knows no linux-image-6.1.0-NN-amd64 package" >&2; exit 1; }
kver=${pkg#linux-image-}
pkgver=$(apt-cache policy "$pkg" | awk '$1=="Candidate:"{print $2}')
[ -n "$pkgver" ] && [ "$pkgver" != "(none)" ] || { say "ERROR: $pkg has no candidate version" >&2; exit 1; }

kv="$kdir/$kver"
mkdir -p "$kv"
if ! ls "$kv/${pkg}_"*.deb >/dev/null 2>&1; then
  say "downloading $pkg $pkgver"
  # apt-get download as root warns that _apt cannot write here: harmless (it then downloads as root).
  (cd "$kv" && apt-get download -q "$pkg=$pkgver" 2>&1 | grep -v -e '^W: Download is performed unsandboxed' -e '^Get:' || true)
fi
deb=$(ls "$kv/${pkg}_"*.deb 2>/dev/null | sort -V | tail -1)
[ -n "$deb" ] || { say "ERROR: apt-get download $pkg failed" >&2; exit 1; }

if [ ! -d "$kv/kroot/lib/modules/$kver" ]; then
  say "unpacking $(basename "$deb")"
  rm -rf "$kv/kroot.tmp"
  dpkg -x "$deb" "$kv/kroot.tmp"
  mv "$kv/kroot.tmp" "$kv/kroot"
fi
if [ ! -s "$kv/kroot/lib/modules/$kver/modules.dep" ]; then
  say "depmod -b $kv/kroot $kver"
  "$DEPMOD" -b "$kv/kroot" "$kver"
fi

# The bzImage carries the kernel as an xz stream: unpacked it is an ELF with a PVH entry note,
# which QEMU boots straight away (no firmware, no decompression under TCG: ~4 s less).
if [ ! -s "$kv/vmlinux" ]; then
  bz="$kv/kroot/boot/vmlinuz-$kver"
  say "extracting the ELF vmlinux from $(basename "$bz")"
  for off in $(LC_ALL=C grep -abo $'\xfd7zXZ' "$bz" | cut -d: -f1); do
    # xz stops at the stream's end and complains about what follows it: expected.
    tail -c +$((off + 1)) "$bz" | xz -dc 2>/dev/null > "$kv/vmlinux.tmp" || true
    if [ "$(head -c 4 "$kv/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      mv "$kv/vmlinux.tmp" "$kv/vmlinux"
      break
    fi
  done
  rm -f "$kv/vmlinux.tmp"
  [ -s "$kv/vmlinux" ] || { say "ERROR: no ELF kernel found in $bz" >&2; exit 1; }
fi

complete "$kver" || { say "ERROR: incomplete kernel in $kv" >&2; exit 1; }
printf 'KVER=%s\nPKG=%s\nPKGVER=%s\n' "$kver" "$pkg" "$pkgver" > "$kdir/kernel.env.tmp"
mv "$kdir/kernel.env.tmp" "$kdir/kernel.env"
say "fetched $pkg $pkgver: kernel $kver, $(du -sh "$kv" | cut -f1) in $kv"
