# Inputs the fuzzer once crashed on (tests/fuzz/regressions) give a clear error, exit 1.
for f in "$SCIFLOW_SRC"/tests/fuzz/regressions/*; do
  tezip info "$f" > /dev/null 2>&1; echo "info $?"
  tezip d "$f" -o out.npy > /dev/null 2>&1; echo "decompress $?"
  tezip d "$f" --frames 0:1 -o out.npy > /dev/null 2>&1; echo "index $?"
done
ls out.npy 2>/dev/null
true
