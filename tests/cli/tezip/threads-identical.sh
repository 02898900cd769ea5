# The coded groups do not depend on -j, and any thread count decodes them.
make_frames write a.npy --shape 20,300,70 --dtype u16 --noise 20 || exit 1
tezip c a.npy -o one.tez -q -j1 --group 5 && tezip c a.npy -o four.tez -q -j4 --group 5 || exit 1
end_of_groups() { od -An -t u8 -j $(( $(stat -c %s "$1") - 16 )) -N 8 "$1" | tr -d ' '; }
n=$(end_of_groups one.tez)
[[ $n == $(end_of_groups four.tez) ]] && cmp -n "$n" one.tez four.tez && echo same groups
for j in 1 2 3 8; do tezip d four.tez -j $j -o - -F npy | cmp - a.npy || exit 1; done
echo decoded alike
