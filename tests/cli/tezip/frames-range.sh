# --frames A:B decodes only those frames, equal to the same slice of the whole.
make_frames write a.raw --shape 40,16,20 --dtype u16 || exit 1
tezip c a.raw -o a.tez -q --shape 40,16,20 --dtype u16 --group 8 || exit 1
fb=$((16 * 20 * 2))
tezip d a.tez --frames 13:29 -o part.raw -q || exit 1
cmp part.raw <(tail -c +$((13 * fb + 1)) a.raw | head -c $((16 * fb))) && echo slice ok
tezip d - --frames 5 -F raw < a.tez | cmp - <(tail -c +$((5 * fb + 1)) a.raw | head -c $fb) && echo pipe slice ok
tezip d a.tez --frames 50:60 -o none.raw
