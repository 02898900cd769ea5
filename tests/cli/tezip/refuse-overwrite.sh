make_frames write a.npy --shape 2,8,8 --dtype u8 || exit 1
tezip c a.npy -q || exit 1
tezip c a.npy
echo "exit $?"
# Not even with -f may the output be the input's own file, under any name.
tezip d a.npy.tez -o a.npy.tez -f
echo "exit $?"
ln -s a.npy.tez link.tez
tezip c a.npy -o a.npy -f
echo "exit $?"
tezip d link.tez -o a.npy.tez -f -F raw
echo "exit $?"
tezip verify a.npy.tez --against a.npy
