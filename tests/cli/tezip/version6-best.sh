# Best-tier files of format version 6 (two least-squares classes, fits that see two
# frames back) still decode now that version 7's fits may see eight: exactly where
# lossless, within the bound where lossy, one channel and three. Each fixture has
# more than 8 frames in a group, so a reader that took it for version 7 would look
# for the deeper fits and fail. The fixtures in tests/data/tezip-v6-best were
# written from these series by tezip at commit a57c1b9. Recompressing writes
# version 7, which decodes to the same samples.
d=$SCIFLOW_SRC/tests/data/tezip-v6-best
make_frames write grey.raw --shape 20,48,40 --dtype u16 --format raw --seed 5 || exit 1
tezip d $SCIFLOW_SRC/tests/data/bulk-water-crop.tez -o crop.raw -F raw -q || exit 1
head -c $((12 * 64 * 64 * 3)) crop.raw > crop12.raw
version() { od -An -t u2 -j 8 -N 2 "$1" | tr -d ' '; }
echo "fixture versions: $(version "$d/grey-u16-best.tez") $(version "$d/grey-u16-best-abs3.tez") $(version "$d/rgb-u8-best.tez")"
tezip d "$d/grey-u16-best.tez" -o g.raw -F raw -q || exit 1
cmp grey.raw g.raw && echo "grey u16, 20 frames in one group, version 6: exact"
tezip d "$d/grey-u16-best.tez" -o part.raw -F raw -q --frames 12:20 || exit 1
cmp <(tail -c $((8 * 48 * 40 * 2)) grey.raw) part.raw && echo "frames 12:20 of version 6: exact"
tezip verify "$d/grey-u16-best-abs3.tez" --against grey.raw --shape 20,48,40 --dtype u16 --json | grep -o '"max_abs_error":[0-9.]*'
echo "history lines in tezip info of version 6: $(tezip info "$d/grey-u16-best.tez" | grep -c '^history')"
tezip d "$d/rgb-u8-best.tez" -o r.raw -F raw -q || exit 1
cmp crop12.raw r.raw && echo "rgb u8, 12 frames, version 6: exact"
for f in grey:20,48,40:u16 crop12:12,64,64,3:u8; do
  IFS=: read -r name shape dtype <<< "$f"
  tezip c $name.raw --shape $shape --dtype $dtype --best -o new.tez -q -f || exit 1
  tezip d new.tez -o n.raw -F raw -q -f && cmp n.raw $name.raw && echo "$name rewritten as version $(version new.tez): exact"
done
tezip c grey.raw --shape 20,48,40 --dtype u16 --abs 3 -o new3.tez -q || exit 1
echo "lossy rewritten as version $(version new3.tez)"
tezip verify new3.tez --against grey.raw --shape 20,48,40 --dtype u16 --json | grep -o '"max_abs_error":[0-9.]*'
