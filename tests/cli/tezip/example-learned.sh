# The learned-predictor example in examples/ runs as written.
bash "$SCIFLOW_SRC/examples/tezip-learned.sh" "" 2 > out.txt 2> err.txt || { cat err.txt; exit 1; }
grep -o 'decoded bit-exactly with the model' out.txt
grep -c '^model       sha256:' out.txt
grep -o '^classical: [0-9]* bytes, learned: [0-9]* bytes' out.txt | sed 's/[0-9][0-9]*/N/g'
