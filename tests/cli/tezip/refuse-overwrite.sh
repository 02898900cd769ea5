make_frames write a.npy --shape 2,8,8 --dtype u8 || exit 1
tezip c a.npy -q || exit 1
tezip c a.npy
