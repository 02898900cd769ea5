# A scene change (here: a bright "flat field" after 10 frames) starts a new group,
# TEZip's dynamic window; a steady scene stays in one group.
make_frames write a.raw --shape 10,40,48 --dtype u16 --noise 30 || exit 1
make_frames write b.raw --shape 10,40,48 --dtype u16 --noise 30 --brightness 0.4 --seed 2 || exit 1
cat a.raw b.raw > cut.raw
tezip c cut.raw --shape 20,40,48 --dtype u16 -o cut.tez || exit 1
tezip info cut.tez --json | grep -o '"group_starts":\[[0-9,]*\]'
tezip c a.raw --shape 10,40,48 --dtype u16 -o steady.tez || exit 1
tezip info steady.tez --json | grep -o '"group_starts":\[[0-9,]*\]'
tezip d cut.tez -o back.raw && cmp back.raw cut.raw && echo identical
# Groups of different sizes (4, 4, 2, 4, 4, 2 frames): each decodes into the buffers
# of a group before it, bigger or smaller, with one thread and with two.
tezip c cut.raw --shape 20,40,48 --dtype u16 --group 4 -o g4.tez || exit 1
tezip info g4.tez --json | grep -o '"group_starts":\[[0-9,]*\]'
for j in 1 2; do tezip d g4.tez -o - -F raw -j$j | cmp - cut.raw && echo "groups of 4 and 2, -j$j: identical"; done
tezip d g4.tez -o - -F raw --frames 3:17 | cmp - <(tail -c +$((3 * 40 * 48 * 2 + 1)) cut.raw | head -c $((14 * 40 * 48 * 2))) && echo "frames 3:17: identical"
