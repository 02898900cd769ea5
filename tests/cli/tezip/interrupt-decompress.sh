# SIGTERM while decompressing: exit 143 and no partial output under the final name.
make_frames write big.npy --shape 48,512,512 --dtype u16 --noise 50 || exit 1
tezip c big.npy -o big.tez -j2 || exit 1
tezip d big.tez -o out.npy -j1 &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid
echo "exit $?"
ls -A | grep -v '^big\.' || echo nothing left
