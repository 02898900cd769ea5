# The progress bar draws on a terminal (script(1) provides one) and never into a pipe or file.
make_frames write a.npy --shape 64,256,256 --dtype u16 --noise 40 || exit 1
script -qec "tezip c a.npy -o tty.tez -j1" /dev/null > tty.out || exit 1
grep -q 'compress \[' tty.out && grep -q 'ETA' tty.out && echo bar on a tty
tezip c a.npy -o pipe.tez -j1 2> pipe.err
[[ ! -s pipe.err ]] && echo silent in a pipe
script -qec "tezip c a.npy -o quiet.tez -j1 -q" /dev/null > quiet.out || exit 1
grep -q 'compress \[' quiet.out || echo silent with -q
