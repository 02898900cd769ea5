# Best-tier files of format versions 1 and 4 (one least-squares fit per plane or
# group, before version 6's two classes) still decode: exactly where lossless,
# within their bound where lossy, with the colour transform where version 4
# recorded it. The fixtures in tests/data/tezip-v1-v4-best were written from these
# series by tezip at commit 58ae7d7. Recompressing writes version 7, which this
# tezip decodes to the same samples.
d=$SCIFLOW_SRC/tests/data/tezip-v1-v4-best
make_frames write grey.raw --shape 8,48,40 --dtype u16 --format raw --seed 5 || exit 1
tezip d $SCIFLOW_SRC/tests/data/bulk-water-crop.tez -o crop.raw -F raw -q || exit 1
head -c $((6 * 64 * 64 * 3)) crop.raw > crop6.raw
version() { od -An -t u2 -j 8 -N 2 "$1" | tr -d ' '; }
echo "fixture versions: $(version "$d/grey-u16-best.tez") $(version "$d/grey-u16-best-abs3.tez") $(version "$d/rgb-u8-best-colour.tez")"
tezip d "$d/grey-u16-best.tez" -o g.raw -F raw -q || exit 1
cmp grey.raw g.raw && echo "grey u16, two groups, version 1: exact"
tezip d "$d/grey-u16-best.tez" -o part.raw -F raw -q --frames 5:8 || exit 1
cmp <(tail -c $((3 * 48 * 40 * 2)) grey.raw) part.raw && echo "frames 5:8 of version 1: exact"
tezip verify "$d/grey-u16-best-abs3.tez" --against grey.raw --shape 8,48,40 --dtype u16 --json | grep -o '"max_abs_error":[0-9.]*'
tezip d "$d/rgb-u8-best-colour.tez" -o r.raw -F raw -q || exit 1
cmp crop6.raw r.raw && echo "rgb u8 with the colour transform (version 4): exact"
for f in grey:8,48,40:u16 crop6:6,64,64,3:u8; do
  IFS=: read -r name shape dtype <<< "$f"
  tezip c $name.raw --shape $shape --dtype $dtype --best -o new.tez -q -f || exit 1
  tezip d new.tez -o n.raw -F raw -q -f && cmp n.raw $name.raw && echo "$name rewritten as version $(version new.tez): exact"
done
tezip c grey.raw --shape 8,48,40 --dtype u16 --abs 3 -o new3.tez -q || exit 1
tezip verify new3.tez --against grey.raw --shape 8,48,40 --dtype u16 --json | grep -o '"max_abs_error":[0-9.]*'
