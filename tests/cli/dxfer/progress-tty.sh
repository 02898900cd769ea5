# On a terminal (script(1) provides one) the progress bar shows bytes, rate, ETA
# and files done of the total; into a pipe it stays silent.
mkdir -p data/sub
for i in $(seq 1 30); do head -c $((i * 1000)) /dev/zero > data/sub/f$i.bin; done
script -qec "dxfer push data dst" /dev/null > tty.out || exit 1
grep -q 'ETA' tty.out && echo "bar with an ETA"
grep -o '30/30 files' tty.out | head -1
dxfer push data dst2 2> pipe.err
[[ ! -s pipe.err ]] && echo "silent in a pipe"
