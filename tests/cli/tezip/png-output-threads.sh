# A PNG directory is written -j frames at once: the same files at -j1, -j2 and -j4,
# with groups (3, 3, 1 frames) that split unevenly among the encoders.
make_frames write a.npy --shape 7,24,30,3 --dtype u8 --noise 10 || exit 1
tezip c a.npy -o a.tez -q --group 3 || exit 1
for j in 1 2 4; do tezip d a.tez -o out$j/ -q -j$j || exit 1; done
ls out4
diff -r out1 out2 && diff -r out1 out4 && echo "-j1, -j2, -j4: the same PNG files"
tezip verify a.tez --against out4
ls -a | grep -c '\.tmp\.' || echo "no temporary directory left"
