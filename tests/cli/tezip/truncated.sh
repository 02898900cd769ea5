# Truncated files and wrong versions give a clear error, never a crash.
make_frames write a.npy --shape 16,32,32 --dtype u16 || exit 1
tezip c a.npy -o a.tez -q --group 4 || exit 1
head -c $(( $(stat -c %s a.tez) * 2 / 3 )) a.tez > cut.tez
tezip d cut.tez -o out.npy; echo "exit $?"
head -c 10 a.tez > tiny.tez
tezip info tiny.tez; echo "exit $?"
cp a.tez v8.tez; printf '\x08' | dd of=v8.tez bs=1 seek=8 conv=notrunc status=none
tezip d v8.tez -o out.npy; echo "exit $?"
echo 'this is a text file, not compressed frames' > text.tez
tezip d text.tez -o out.npy; echo "exit $?"
ls out.npy 2>/dev/null
true
