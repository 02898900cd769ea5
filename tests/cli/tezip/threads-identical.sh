# The coded groups do not depend on -j, and any thread count decodes them (both tiers).
make_frames write a.npy --shape 20,300,70 --dtype u16 --noise 20 || exit 1
end_of_groups() { od -An -t u8 -j $(( $(stat -c %s "$1") - 16 )) -N 8 "$1" | tr -d ' '; }
for tier in --fast --best; do
  tezip c a.npy -o one.tez -f -q -j1 --group 5 $tier && tezip c a.npy -o four.tez -f -q -j4 --group 5 $tier || exit 1
  n=$(end_of_groups one.tez)
  [[ $n == $(end_of_groups four.tez) ]] && cmp -n "$n" one.tez four.tez && echo "$tier: same groups"
  for j in 1 2 3 8; do tezip d four.tez -j $j -o - -F npy | cmp - a.npy || exit 1; done
  echo "$tier: decoded alike"
done
