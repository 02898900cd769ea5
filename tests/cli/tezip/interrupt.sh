# SIGINT mid-compression: exit 130, no output and no temporary file left.
make_frames write big.npy --shape 48,512,512 --dtype u16 --noise 50 || exit 1
tezip c big.npy -o big.tez -j1 -q &
pid=$!
sleep 0.7
kill -INT $pid
wait $pid
echo "exit $?"
ls -A | grep -v '^big.npy$' || echo nothing left
