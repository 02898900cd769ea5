# Multi-page TIFF in, multi-page TIFF out, byte for byte; a directory of TIFF
# files (several pages each) counts every page as a frame; float TIFF too.
make_frames write stack.tif --shape 7,20,30 --dtype u16 --noise 25 || exit 1
tezip c stack.tif -o stack.tez || exit 1
tezip d stack.tez -o back.tif && cmp stack.tif back.tif && echo multi-page identical
mkdir seq
for i in 0 1 2; do make_frames write seq/f$i.tif --shape 2,10,12,3 --dtype u8 --seed $i || exit 1; done
tezip c seq -o seq.tez && tezip info seq.tez | sed -n 2p
tezip verify seq.tez --against 'seq/*.tif' | sed 's/^[^:]*: //'
make_frames write f.tif --shape 3,9,9 --dtype f32 || exit 1
tezip c f.tif -o f.tez && tezip d f.tez -o f2.tif && cmp f.tif f2.tif && echo float identical
