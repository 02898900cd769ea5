# A PNG sequence (RGB, 8-bit) in, a PNG directory out; verify compares the pixels.
mkdir frames
make_frames write frames/ --format png --shape 5,20,26,3 --dtype u8 || exit 1
ls frames | wc -l
tezip c frames -o f.tez -q || exit 1
tezip d f.tez -o out/ -q || exit 1
ls out | wc -l
tezip verify f.tez --against 'out/*.png'
