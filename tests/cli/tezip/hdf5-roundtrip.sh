# HDF5 in, HDF5 out: same dataset path, same attributes, same values (h5dump sees them).
make_frames write scan.h5 --shape 10,24,31 --dtype u16 --dataset /entry/instrument/detector/data || exit 1
tezip c scan.h5 -q || exit 1
tezip d scan.h5.tez -o back.h5 -q || exit 1
diff <(h5dump -d /entry/instrument/detector/data scan.h5 | tail -n +2) \
     <(h5dump -d /entry/instrument/detector/data back.h5 | tail -n +2) && echo same data and attributes
tezip info scan.h5.tez | grep dataset
