#!/bin/bash
# Writes the version-1 compatibility fixtures of CompatibilityTests: a state directory's
# database, an export and the CLI listings, made by the CLIs and stmfd of a build from before
# the provider registry (commit 7e3caf3, export format 1, store migration v1). Usage:
#
#     generate.sh BIN_DIR      # BIN_DIR: .build/debug of that build
#
# Backing files live under /tmp/swift-stmf-v1-fixture/data; the tests move them elsewhere.
set -euo pipefail
BIN=$1
OUT=$(cd "$(dirname "$0")" && pwd)
ROOT=/tmp/swift-stmf-v1-fixture
D=$ROOT/data
rm -rf "$ROOT"; mkdir -p "$ROOT/state" "$D"
adm() { "$BIN/stmfadm" "$1" --state-dir "$ROOT/state" "${@:2}"; }
"$BIN/stmfd" --state-dir "$ROOT/state" >"$ROOT/stmfd.log" 2>&1 &
pid=$!
until adm list-state >/dev/null 2>&1; do sleep 0.1; done
guid() { sed -n 's/^Logical unit created: \([0-9A-F]\{32\}\)$/\1/p'; }

# A file LU with its metadata in front of the data, every text property set.
lu0=$(adm create-lu -s 64k -p alias=file-lu -p serial=SN-FILE -p mgmt-url=http://mgmt.example/lu0 \
      -p wcd=true -p vid=ACME -p pid=FIXTURE -p rev=2.1 -p oui=00A0B8 "$D/lu0.img" | guid)
# A file LU with a separate meta file, write-protected.
lu1=$(adm create-lu -s 64k -p meta="$D/lu1.meta" -p alias=meta-lu -p wp=true "$D/lu1.img" | guid)
# RAM LUs: one with a chosen GUID and 4 KiB blocks, one with every default, offline.
lu2=$(adm create-lu -s 4m -p blk=4096 -p guid=600144F0F0220000000000000000F0A1 -p alias=ram-lu -p serial=SN-RAM ram:scratch | guid)
lu3=$(adm create-lu -s 2m ram:plain | guid)
adm modify-lu -s 128k -p alias=file-lu-grown "$lu0"
adm offline-lu "$lu3"

adm create-hg db-hosts
adm add-hg-member -g db-hosts wwn.2100000000000001 wwn.2100000000000002
adm create-hg "web hosts"
adm add-hg-member -g "web hosts" iqn.1994-05.com.redhat:web1
adm create-tg fabric-a
adm add-tg-member -g fabric-a wwn.5000000000000001
adm add-view -h db-hosts -t fabric-a -n 7 "$lu0"
adm add-view -h "web hosts" "$lu0"
adm add-view "$lu2"
adm add-view -n 300 "$lu3"
"$BIN/fcadm" create-emulated-port --state-dir "$ROOT/state" -p 50:00:00:00:00:00:0a:01 --fabric "$ROOT/no-fabric.sock" >/dev/null

adm export "$OUT/config.export"
adm list-lu -v >"$OUT/list-lu-v.txt"
"$BIN/sbdadm" list-lu --state-dir "$ROOT/state" >"$OUT/sbdadm-list-lu.txt"
kill -TERM $pid; wait $pid || true
test ! -s "$ROOT/state/stmf.db-wal"
cp "$ROOT/state/stmf.db" "$OUT/stmf.db"
cp "$D/lu0.img" "$OUT/lu0.img"
rm -rf "$ROOT"
echo "fixtures written to $OUT"
