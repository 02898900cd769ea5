# A flipped byte is caught by a checksum, named, and no output is left behind.
make_frames write a.npy --shape 16,32,32 --dtype u16 --noise 30 || exit 1
tezip c a.npy -o a.tez -q --group 4 || exit 1
size=$(stat -c %s a.tez)
printf '\xA5' | dd of=a.tez bs=1 seek=$((size / 2)) conv=notrunc status=none
tezip d a.tez -o out.npy
echo "exit $?"
ls -A | grep -v '^a\.' || echo nothing left
tezip verify a.tez > /dev/null
