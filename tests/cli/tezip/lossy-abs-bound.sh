# --abs E: every sample within E, and the file is smaller than lossless.
make_frames write a.npy --shape 8,40,50 --dtype u16 --noise 60 || exit 1
tezip c a.npy -o exact.tez -q || exit 1
for e in 1 4 30; do
  tezip c a.npy -o lossy.tez -f -q --abs $e || exit 1
  tezip verify lossy.tez --against a.npy --json | grep -o '"within_bound":true' || exit 1
  max=$(tezip verify lossy.tez --against a.npy --json | sed 's/.*"max_abs_error":\([0-9.]*\).*/\1/')
  awk -v m="$max" -v e=$e 'BEGIN { exit !(m <= e) }' || { echo "max error $max above $e"; exit 1; }
  [[ $(stat -c %s lossy.tez) -lt $(stat -c %s exact.tez) ]] || { echo "not smaller at $e"; exit 1; }
done
