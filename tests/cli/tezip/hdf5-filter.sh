# --to-h5 writes a dataset compressed by the tezip HDF5 filter; h5dump (a plain
# HDF5 program) reads it through HDF5_PLUGIN_PATH, and tezip reads it back.
export HDF5_PLUGIN_PATH=$SCIFLOW_BIN/../hdf5-plugin
make_frames write s.h5 --shape 20,40,50 --dtype u16 --noise 20 --dataset /entry/data/data || exit 1
tezip c s.h5 --to-h5 f.h5 || exit 1
h5dump -p -H f.h5 | grep -o 'FILTER_ID 501'
diff <(h5dump -d /entry/data/data s.h5 | tail -n +2) <(h5dump -d /entry/data/data f.h5 | tail -n +2) && echo h5dump sees the same data
[[ $(stat -c %s f.h5) -lt $(stat -c %s s.h5) ]] && echo smaller
# Each chunk is a .tez stream of format version 1, which older plugins read (the
# .tez files of the best tier are version 7).
python3 -c "
d = open('f.h5', 'rb').read()
at = [i for i in range(len(d)) if d.startswith(b'\x89TEZ\r\n\x1a\n', i)]
print(len(at), 'chunks, format versions', sorted({int.from_bytes(d[i + 8:i + 10], 'little') for i in at}))"
HDF5_PLUGIN_PATH=/nonexistent h5dump -d /entry/data/data f.h5 > /dev/null 2>&1 || echo unreadable without the plugin
tezip c s.h5 --to-h5 lossy.h5 --abs 5 || exit 1
# A lossless copy of the filtered data, compared with the original: max error within 5.
tezip c lossy.h5 -o lossy.tez && tezip verify lossy.tez --against s.h5 --json 2>/dev/null | grep -o '"max_abs_error":[0-5]\(\.0\)\?,'
