# A name ending in .png is one PNG file: for one frame (or --frames K:K+1) it is
# written, read back and verified; for more frames it is refused, nothing left.
make_frames write x.npy --shape 3,12,20 --dtype u16 || exit 1
tezip c x.npy -o x.tez -q || exit 1
tezip d x.tez -o all.png; echo "three frames to all.png: exit $?"
ls -A | grep -c -e '^all' -e tmp
tezip d x.tez --frames 1:2 -o one.png || exit 1
head -c 8 one.png | od -An -tx1
tezip d x.tez --frames 1:2 -o one.npy || exit 1
tezip c one.png -o one.tez -q || exit 1
tezip verify one.tez --against one.npy
# -F png keeps the directory form whatever the name.
tezip d x.tez -F png -o dir || exit 1
ls dir
# -f replaces a PNG directory only when it holds nothing but frame_NNNNNN.png
# files (it once emptied any directory: "-o ~/ -f").
mkdir -p mine && echo precious > mine/notes.txt
tezip d x.tez -o mine/ -f; echo "over a directory of other files: exit $?"
cat mine/notes.txt
tezip d x.tez --frames 0:2 -o dir/ -f || exit 1
ls dir
