# verify checks --rel per group: compared with other data, the bound fails, exit 1.
set -o pipefail
make_frames write i.npy --shape 6,30,30 --dtype i32 --noise 1000 || exit 1
make_frames write other.npy --shape 6,30,30 --dtype i32 --noise 1000 --brightness 0.2 || exit 1
tezip c i.npy -o i.tez --rel 0.001 || exit 1
tezip verify i.tez --against i.npy --json | grep -o '"within_bound":true'
tezip verify i.tez --against other.npy --json | grep -o '"within_bound":false'
