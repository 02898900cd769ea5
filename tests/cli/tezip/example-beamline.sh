# The example in examples/ runs as written.
bash "$SCIFLOW_SRC/examples/tezip-beamline.sh" > out.txt 2> err.txt || { cat err.txt; exit 1; }
grep -c '^verdict' out.txt
grep -o 'bit-exact' out.txt
grep -o '"frames":128' out.txt
