#!/usr/bin/env bash
# Regenerates one tool's man page and shell completions from its CLI definition.
#   scripts/gen-docs.sh BINARY SOURCE_DIR
# Called by `cmake --build build -t docs`; the results are committed.
set -euo pipefail
bin=$1 src=$2
tool=$(basename "$bin")
"$bin" --generate=man --man-prose="$src/man/$tool.1.md" > "$src/man/$tool.1.tmp"
mv "$src/man/$tool.1.tmp" "$src/man/$tool.1"
for kind in bash zsh fish; do
  case $kind in
    bash) out=$src/completions/$tool.bash ;;
    zsh) out=$src/completions/_$tool ;;
    fish) out=$src/completions/$tool.fish ;;
  esac
  "$bin" --generate=$kind > "$out.tmp"
  mv "$out.tmp" "$out"
done
