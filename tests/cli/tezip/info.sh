make_frames write a.npy --shape 30,16,16 --dtype u16 || exit 1
tezip c a.npy -q --group 10 || exit 1
tezip info a.npy.tez | sed -n '2,4p'
tezip info - --json < a.npy.tez | grep -o '"groups":3,"group_starts":\[0,10,20\],"raw_bytes":15360'
