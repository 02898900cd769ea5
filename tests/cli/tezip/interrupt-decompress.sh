# SIGTERM while decompressing: exit 143 and no partial output under the final name.
make_frames write big.npy --shape 48,512,512 --dtype u16 --noise 50 || exit 1
tezip c big.npy -o big.tez -j2 --best || exit 1   # the slower tier: seconds to decode
tezip d big.tez -o out.npy -j1 &
pid=$!
# Once its temporary output is open (nameless: /proc shows it as DIR/#INODE (deleted)), it is decoding.
for _ in $(seq 100); do ls -l /proc/$pid/fd 2>/dev/null | grep -q "$PWD/#.*(deleted)" && break; sleep 0.05; done
sleep 0.2
kill -TERM $pid
wait $pid
echo "exit $?"
ls -A | grep -v '^big\.' || echo nothing left
