# SIGINT mid-compression: exit 130, no output and no temporary file left.
make_frames write big.npy --shape 48,512,512 --dtype u16 --noise 50 || exit 1
tezip c big.npy -o big.tez -j1 -q --best &   # the slower tier: seconds to compress
pid=$!
# Once its temporary output is open (nameless: /proc shows it as DIR/#INODE (deleted)), it is compressing.
for _ in $(seq 100); do ls -l /proc/$pid/fd 2>/dev/null | grep -q "$PWD/#.*(deleted)" && break; sleep 0.05; done
sleep 0.2
kill -INT $pid
wait $pid
echo "exit $?"
ls -A | grep -v '^big.npy$' || echo nothing left
# SIGKILL cannot be caught, yet leaves nothing either: the output has no name until it is complete.
tezip c big.npy -o big.tez -j1 -q --best &
pid=$!
for _ in $(seq 100); do ls -l /proc/$pid/fd 2>/dev/null | grep -q "$PWD/#.*(deleted)" && break; sleep 0.05; done
kill -KILL $pid
wait $pid 2>/dev/null
echo "killed: exit $?"
ls -A | grep -v '^big.npy$' || echo nothing left
