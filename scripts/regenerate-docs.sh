#!/usr/bin/env bash
# Regenerates the committed man pages (man/man8, section 8: administration commands) and shell
# completions from the command definitions. Each page is what swift-argument-parser's
# generate-manual plugin writes (synopsis, options, subcommands) merged with the hand-maintained
# sections of man/sections/<command>.mdoc (scripts/merge-manual.py): an introduction, LOGICAL
# UNIT PROPERTIES, ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES, SEE ALSO.
# Deterministic: a page whose text did not change keeps its .Dd date (else today, or
# $SOURCE_DATE_EPOCH). Tests/ServiceTests/ManualTests.swift fails when a page drifts from the
# commands or from its fragment.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
commands=(stmfd stmfadm sbdadm fcinfo fcadm fcfabric fcinit)
# The plugin builds every product (debug: the build the tests use) and writes <product>.8 for
# each executable product on ArgumentParser.
swift package plugin generate-manual --configuration debug --section 8
out=.build/plugins/GenerateManual/outputs
mkdir -p man/man8 completions
for p in "${commands[@]}"; do
  python3 scripts/merge-manual.py "$out/$p/$p.8" "man/sections/$p.mdoc" "man/man8/$p.8" "man/man8/$p.8.new"
  mv "man/man8/$p.8.new" "man/man8/$p.8"
  if command -v mandoc >/dev/null; then mandoc -T lint -W warning "man/man8/$p.8"; fi
done
for p in stmfadm sbdadm fcinfo fcadm; do
  for sh in bash zsh fish; do ".build/debug/$p" --generate-completion-script "$sh" > "completions/$p.$sh"; done
done
