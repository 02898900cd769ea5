#!/usr/bin/env bash
# Fails when a tool's committed man page or completions differ from what its CLI
# definition generates now, or when they do not load in man, bash, zsh and fish.
#
#   tests/cli/check-generated.sh BINARY SOURCE_DIR
set -u
bin=$1 src=$2
tool=$(basename "$bin")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sciflow-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
report() { echo "FAIL $tool: $*"; fail=1; }

"$bin" --generate=man --man-prose="$src/man/$tool.1.md" > "$tmp/$tool.1" || report "man page generation failed"
"$bin" --generate=bash > "$tmp/$tool.bash" || report "bash generation failed"
"$bin" --generate=zsh > "$tmp/_$tool" || report "zsh generation failed"
"$bin" --generate=fish > "$tmp/$tool.fish" || report "fish generation failed"
for pair in "man/$tool.1:$tool.1" "completions/$tool.bash:$tool.bash" "completions/_$tool:_$tool" \
            "completions/$tool.fish:$tool.fish"; do
  committed=${pair%%:*} fresh=${pair#*:}
  if ! cmp -s "$src/$committed" "$tmp/$fresh"; then
    report "$committed is stale; run 'cmake --build build -t docs' and commit. Difference:"
    diff -u "$src/$committed" "$tmp/$fresh" | head -40 | sed 's/^/    /'
  fi
done

# The man page renders without groff warnings and has its sections.
warnings=$(groff -man -Tutf8 -ww -z "$src/man/$tool.1" 2>&1)
[[ -z $warnings ]] || report "groff warnings in man/$tool.1: $warnings"
rendered=$(MANWIDTH=80 man -l "$src/man/$tool.1" 2>&1)
for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS"; do
  grep -q "^$section" <<<"$rendered" || report "man -l man/$tool.1 lacks section $section"
done

# bash: the completion registers and completes a shared option.
out=$(bash -c "source '$src/completions/$tool.bash' && complete -p $tool" 2>&1)
[[ $out == "complete -o filenames -F _$tool $tool" ]] || report "bash completion not registered: $out"
out=$(bash -c "source '$src/completions/$tool.bash'; COMP_WORDS=($tool --col); COMP_CWORD=1; _$tool; echo \"\${COMPREPLY[*]}\"")
[[ $out == "--color" ]] || report "bash completion of '--col' gave '$out'"
out=$(bash -c "source '$src/completions/$tool.bash'; COMP_WORDS=($tool --color a); COMP_CWORD=2; _$tool; echo \"\${COMPREPLY[*]}\"")
[[ $out == "auto always" ]] || report "bash completion of '--color a' gave '$out'"

# zsh and fish parse the files.
zsh -n "$src/completions/_$tool" 2>&1 || report "zsh cannot parse completions/_$tool"
fish --no-execute "$src/completions/$tool.fish" 2>&1 || report "fish cannot parse completions/$tool.fish"
out=$(fish -c "source '$src/completions/$tool.fish'; complete -C '$tool --col'" 2>&1)
[[ $out == --color* ]] || report "fish completion of '--col' gave '$out'"

[[ $fail -eq 0 ]] && echo "ok $tool: man page and completions match the CLI definition"
exit $fail
