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
