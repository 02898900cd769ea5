# The example pipeline runs as written on the shipped K11 sample, and a rerun has nothing to do.
bash "$SCIFLOW_SRC/examples/wfrun-beamline.sh" > out.txt 2> err.txt || { cat err.txt; exit 1; }
grep -c '^ok ' out.txt
grep -c '^cached ' out.txt
grep -o 'nothing to do' out.txt
grep -o '1 of 8 steps would run' out.txt
grep -c -- '->' out.txt
