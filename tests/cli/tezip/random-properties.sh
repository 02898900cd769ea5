# Property test with a fixed seed: random shapes, dtypes, modes, tiers, predictors and groups.
# auto is the fast tier, best the least-squares tier choosing per block, the others force one predictor.
RANDOM=20261127
for trial in $(seq 1 30); do
  dts=(u8 u16 u32 i8 i16 i32 f32); preds=(auto best lsq med prev linear)
  dt=${dts[RANDOM % 7]} pred=${preds[RANDOM % 6]}
  shape="$((RANDOM % 9 + 1)),$((RANDOM % 40 + 1)),$((RANDOM % 40 + 1))"
  (( RANDOM % 3 == 0 )) && shape="$shape,$((RANDOM % 4 + 1))"
  group=$((RANDOM % 5 + 1)) block=$((RANDOM % 20 + 4))
  make_frames write a.raw --shape $shape --dtype $dt --seed $trial --noise $((RANDOM % 50)) || exit 1
  mode=() ; bound=0
  if (( RANDOM % 2 )) && [[ $dt != f32 ]]; then bound=$((RANDOM % 20 + 1)); mode=(--abs $bound); fi
  tier=(--predictor "$pred"); [[ $pred == best ]] && tier=(--best)
  tezip c a.raw -o a.tez -f -q --shape $shape --dtype $dt "${tier[@]}" --group $group --block $block "${mode[@]}" || { echo "compress failed: $dt $shape ${mode[*]}"; exit 1; }
  tezip verify a.tez --against a.raw --shape $shape --dtype $dt > /dev/null || { echo "verify failed: $dt $shape $pred ${mode[*]}"; exit 1; }
  if [[ $bound == 0 ]]; then
    tezip d a.tez -o b.raw -f -q && cmp a.raw b.raw || { echo "not exact: $dt $shape $pred"; exit 1; }
  fi
done
echo 30 trials ok
# Longer groups in the best tier: from a group's ninth frame on its fits may see 8
# frames back (format version 7), in every dtype, with and without channels.
for trial in $(seq 31 40); do
  dts=(u8 u16 u32 i8 i16 i32 f32)
  dt=${dts[RANDOM % 7]}
  frames=$((RANDOM % 31 + 10)) shape="$((RANDOM % 24 + 1)),$((RANDOM % 24 + 1))"
  (( RANDOM % 2 )) && shape="$shape,$((RANDOM % 3 + 2))"
  shape="$frames,$shape" group=$((RANDOM % 31 + 10))
  make_frames write a.raw --shape $shape --dtype $dt --seed $trial --noise $((RANDOM % 50)) || exit 1
  mode=() ; bound=0
  if (( RANDOM % 2 )) && [[ $dt != f32 ]]; then bound=$((RANDOM % 20 + 1)); mode=(--abs $bound); fi
  tezip c a.raw -o a.tez -f -q --shape $shape --dtype $dt --best --group $group "${mode[@]}" || { echo "compress failed: $dt $shape ${mode[*]}"; exit 1; }
  tezip verify a.tez --against a.raw --shape $shape --dtype $dt > /dev/null || { echo "verify failed: $dt $shape ${mode[*]}"; exit 1; }
  if [[ $bound == 0 ]]; then
    tezip d a.tez -o b.raw -f -q && cmp a.raw b.raw || { echo "not exact: $dt $shape"; exit 1; }
  fi
done
echo 10 longer trials ok
