#!/usr/bin/env bash
# Regenerates the committed man pages and shell completions from the command definitions.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
swift build --product stmfadm --product sbdadm --product fcinfo --product fcadm --product stmfd
swift package plugin generate-manual
mkdir -p man/man1 completions
for p in stmfadm sbdadm fcinfo fcadm stmfd; do cp ".build/plugins/GenerateManual/outputs/$p/$p.1" man/man1/; done
for p in stmfadm sbdadm fcinfo fcadm; do
  for sh in bash zsh fish; do ".build/debug/$p" --generate-completion-script "$sh" > "completions/$p.$sh"; done
done
