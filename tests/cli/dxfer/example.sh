# The example in examples/ runs as written.
bash "$SCIFLOW_SRC/examples/dxfer-local.sh" > out.txt 2> err.txt || { cat err.txt; exit 1; }
cat out.txt | sed 's/  [0-9a-f]\{16\}  /  HASH  /'
