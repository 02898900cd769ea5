# HDF5 from stdin is spooled to a temporary file (HDF5 needs to seek), then removed.
make_frames write s.h5 --shape 5,12,14 --dtype i32 --noise 100 || exit 1
tezip c - < s.h5 > s.tez || exit 1
tezip verify s.tez --against s.h5 | sed 's/^[^:]*: //'
tezip info s.tez | grep dataset
ls "${TMPDIR:-/tmp}"/.tezip-stdin.h5.tmp.* 2>/dev/null | wc -l
