# A PNG sequence is decoded several files at once with -j: the same frames at -j1,
# -j2 and -j4. A damaged file in the middle is named, the run fails, and no output
# is left, whichever file the decoders had reached.
mkdir frames
make_frames write frames/ --format png --shape 12,30,40 --dtype u16 --noise 20 || exit 1
for j in 1 2 4; do
  tezip c frames -o j$j.tez -q -j$j || exit 1
  tezip d j$j.tez -o - -F raw > j$j.raw || exit 1
done
cmp j1.raw j2.raw && cmp j1.raw j4.raw && echo "-j1, -j2, -j4: same frames"
tezip verify j2.tez --against frames -q && echo "verify against the PNGs: ok"
bad=$(ls frames | sed -n 7p)
head -c 300 "frames/$bad" > short.png && mv short.png "frames/$bad"
for j in 1 2 4; do
  tezip c frames -o bad$j.tez -q -j$j 2> err$j.txt
  echo "-j$j: exit $?, $(grep -c "frames/$bad" err$j.txt) error naming the damaged file"
  ls bad$j.tez 2> /dev/null || echo "-j$j: no partial output"
done
