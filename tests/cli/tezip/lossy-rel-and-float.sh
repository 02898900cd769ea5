# --rel on integers and --abs on floats keep their bounds.
make_frames write i.npy --shape 6,30,30 --dtype i32 --noise 1000 || exit 1
tezip c i.npy -o i.tez -q --rel 0.001 && tezip verify i.tez --against i.npy > /dev/null && echo rel ok
make_frames write f.npy --shape 6,30,30 --dtype f32 || exit 1
tezip c f.npy -o f.tez -q --abs 0.01 || exit 1
tezip verify f.tez --against f.npy --json | grep -o '"within_bound":true'
tezip info f.tez --json | grep -o '"mode":"abs"'
