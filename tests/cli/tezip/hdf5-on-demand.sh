# HDF5 is loaded only when an HDF5 file is read or written (libsciflow_hdf5.so):
# coding .npy frames never loads libhdf5 (LD_DEBUG=libs lists what the loader
# opens), an HDF5 input does. A tezip copied away from its HDF5 module still codes
# every other format, names the module for an HDF5 file and leaves no output;
# SCIFLOW_HDF5_MODULE points it at one.
unset SCIFLOW_HDF5_MODULE  # the copy below must look for the module itself
make_frames write a.npy --shape 6,20,30 --dtype u16 --noise 5 || exit 1
make_frames write a.h5 --shape 6,20,30 --dtype u16 --noise 5 --dataset /entry/data/data || exit 1
LD_DEBUG=libs tezip c a.npy -o a.tez 2> ld1.txt && LD_DEBUG=libs tezip d a.tez -o b.npy 2>> ld1.txt || exit 1
cmp a.npy b.npy && echo "npy round trip"
grep -q 'init: .*libz\.so' ld1.txt && echo "the loader's log is there"
grep -q libhdf5 ld1.txt || echo "npy: HDF5 not loaded"
LD_DEBUG=libs tezip c a.h5 -o h.tez 2> ld2.txt || exit 1
grep -q 'init: .*libhdf5' ld2.txt && echo "h5: HDF5 loaded"
mkdir alone && cp "$SCIFLOW_BIN/tezip" alone/
alone/tezip c a.npy -o c.tez && alone/tezip d c.tez -o c.npy && cmp c.npy a.npy && echo "alone: npy round trip"
alone/tezip c a.h5 -o d.tez 2>&1 | sed 's/ (looked for:.*//'
echo "exit ${PIPESTATUS[0]}"
ls d.tez 2> /dev/null || echo "no partial output"
SCIFLOW_HDF5_MODULE=$SCIFLOW_BIN/libsciflow_hdf5.so alone/tezip c a.h5 -o d.tez || exit 1
cmp <(tezip d d.tez -o - -F raw) <(tezip d h.tez -o - -F raw) && echo "alone with SCIFLOW_HDF5_MODULE: same frames"
