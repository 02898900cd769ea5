# Every tool prints help generated from its definition, on stdout, exit 0.
for t in tezip dxfer vindex trainctl servectl wfrun; do
  out=$($t --help) || { echo "$t --help failed"; exit 1; }
  [[ $out == *"Usage: $t [OPTIONS]"* && $out == *"--self-check"* ]] || { echo "$t: bad help"; exit 1; }
  # The man page lists the same options as --help.
  man=$(MANWIDTH=200 man -l "$SCIFLOW_SRC/man/$t.1" 2>/dev/null)
  for opt in --verbose --quiet --json --color --threads --version --self-check; do
    [[ $man == *"$opt"* ]] || { echo "$t: man page lacks $opt"; exit 1; }
  done
done
echo all ok
