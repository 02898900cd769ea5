# The two tiers: fast (the default when lossless) and best (the default when lossy). Both exact, recorded in the file
# (tier in the header, format version 5 for fast, 7 for best), and the options that
# need the best tier refuse --fast.
make_frames write a.npy --shape 12,40,50,3 --dtype u8 --noise 3 || exit 1
tezip c a.npy -o fast.tez -q || exit 1
tezip c a.npy -o best.tez -q --best || exit 1
version() { od -An -t u2 -j 8 -N 2 "$1" | tr -d ' '; }
echo "versions: fast $(version fast.tez), best $(version best.tez)"
tezip info fast.tez | grep -E '^(tier|predictors)' | sed 's/[0-9.]*%/N%/g'
tezip info best.tez | grep -E '^(tier|predictors)' | sed 's/[0-9.]*%/N%/g'
tezip info fast.tez --json | grep -o '"effort":"[a-z]*"'
for f in fast best; do tezip d $f.tez -o - -F npy | cmp - a.npy && echo "$f: exact"; done
# Lossy: the best tier by default, the fast tier on request; every sample within the
# bound, and the bound is reached.
tezip c a.npy -o lossy.tez -q --abs 2 || exit 1
tezip info lossy.tez | grep '^tier'
tezip c a.npy -o lossy-fast.tez -q --abs 2 --fast || exit 1
tezip info lossy-fast.tez | grep '^tier'
tezip verify lossy.tez --against a.npy --json | grep -o '"max_abs_error":[0-9.]*'
tezip verify lossy-fast.tez --against a.npy --json | grep -o '"max_abs_error":[0-9.]*'
# Options that need the best tier.
tezip c a.npy -o x.tez --fast --best; echo "exit $?"
tezip c a.npy -o x.tez --fast --predictor med; echo "exit $?"
tezip c a.npy --fast --to-h5 x.h5; echo "exit $?"
tezip c a.npy -o x.tez -q --predictor med && tezip info x.tez | grep '^tier'
ls x.tez x.h5 2>/dev/null | grep -c h5
true
