make_frames write a.npy --shape 4,10,10 --dtype u8 --seed 1 || exit 1
make_frames write b.npy --shape 4,10,10 --dtype u8 --seed 2 || exit 1
make_frames write c.npy --shape 5,10,10 --dtype u8 || exit 1
tezip c a.npy -q || exit 1
tezip verify a.npy.tez --against b.npy; echo "exit $?"
tezip verify a.npy.tez --against c.npy; echo "exit $?"
