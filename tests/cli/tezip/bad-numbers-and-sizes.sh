# Numbers an option cannot take, and raw or .npy data whose size disagrees with
# their shape: each is named with the cause, exits 1 or 2, and leaves no output.
make_frames write x.raw --shape 2,8,8 --dtype u8 || exit 1
for args in "--abs nan" "--abs -1" "--rel inf" "--block 4.5" "--block 5000" "--group 0" "-j 5000" "-j abc"; do
  # shellcheck disable=SC2086 # one word per option and value
  tezip c x.raw --shape 2,8,8 --dtype u8 -o o.tez $args 2>&1; echo "$args: exit $?"
done
# Sizes: a shape too short, too long or beyond any buffer, from a file and a pipe.
tezip c x.raw --shape 1,8,8 --dtype u8 -o o.tez 2>&1; echo "shorter shape: exit $?"
tezip c x.raw --shape 2,8,8 --dtype u16 -o o.tez 2>&1; echo "longer shape: exit $?"
tezip c x.raw --shape 99999999999,99999999,9999999 --dtype u8 -o o.tez 2>&1; echo "huge shape: exit $?"
cat x.raw | tezip c - --shape 1,8,8 --dtype u8 -o o.tez 2>&1; echo "pipe, data left over: exit $?"
cat x.raw | tezip c - --shape 3,8,8 --dtype u8 -o o.tez 2>&1; echo "pipe, data short: exit $?"
make_frames write a.npy --shape 2,8,8 --dtype u16 || exit 1
head -c 200 a.npy > short.npy
tezip c short.npy -o o.tez 2>&1; echo "short .npy: exit $?"
cat a.npy a.npy > long.npy
tezip c long.npy -o o.tez 2>&1; echo "long .npy: exit $?"
[[ ! -e o.tez ]] && echo "no output left"
ls -A | grep -c tmp
# Stdin at an offset of a file: the size counts from there.
(head -c 64 > /dev/null; tezip c - --shape 1,8,8 --dtype u8 -o rest.tez && echo "stdin from byte 64: ok") < x.raw
# A bound beyond the value range codes as the range does (and holds).
tezip c x.raw --shape 2,8,8 --dtype u8 --abs 1e300 -o big.tez && tezip verify big.tez --against x.raw --shape 2,8,8 --dtype u8 --json |
  grep -o '"max_abs_error":[0-9.e+]*'
