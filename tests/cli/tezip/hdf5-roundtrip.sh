# HDF5 in, HDF5 out: same dataset path, same attributes, same values (h5dump sees them).
make_frames write scan.h5 --shape 10,24,31 --dtype u16 --dataset /entry/instrument/detector/data || exit 1
tezip c scan.h5 -q || exit 1
tezip d scan.h5.tez -o back.h5 -q || exit 1
diff <(h5dump -d /entry/instrument/detector/data scan.h5 | tail -n +2) \
     <(h5dump -d /entry/instrument/detector/data back.h5 | tail -n +2) && echo same data and attributes
tezip info scan.h5.tez | grep dataset
# OUT.h5:/path names another dataset for the output (decompress and --to-h5);
# the file need not exist yet. A dataset path with a non-HDF5 format is refused.
tezip d scan.h5.tez -o other.h5:/entry/data -q || exit 1
h5ls -r other.h5 | awk '{print $1}'
diff <(h5dump -d /entry/instrument/detector/data scan.h5 | sed -n '/DATA {/,/^      }/p') \
     <(h5dump -d /entry/data other.h5 | sed -n '/DATA {/,/^      }/p') && echo same values
tezip c scan.h5 --to-h5 filtered.h5:/exchange/data -q || exit 1
h5ls -r filtered.h5 | awk '{print $1}'
tezip d scan.h5.tez -o x.h5:/a -F npy; echo "exit $?"
