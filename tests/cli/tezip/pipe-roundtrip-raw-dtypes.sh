# Every dtype, raw in and raw out through pipes, several shapes and channel counts.
for dt in u8 u16 u32 i8 i16 i32 f32; do
  for shape in 5,17,23 3,9,11,3 1,1,1 9,70,4; do
    make_frames write a.raw --shape $shape --dtype $dt --seed 7 || exit 1
    tezip c - --shape $shape --dtype $dt < a.raw | tezip d - | cmp - a.raw || { echo "FAIL $dt $shape"; exit 1; }
  done
done
echo all identical
