# Fast-tier files of format version 2 (before the version 3 contexts) still decode:
# exactly where lossless, within their bound where lossy. The fixtures in
# tests/data/tezip-v2 were written from these make_frames series.
d=$SCIFLOW_SRC/tests/data/tezip-v2
make_frames write grey.raw --shape 6,24,20 --dtype u16 --format raw --seed 3 || exit 1
make_frames write rgb.raw --shape 4,16,18,3 --dtype u8 --format raw --seed 4 || exit 1
version() { od -An -t u2 -j 8 -N 2 "$1" | tr -d ' '; }
echo "fixture versions: $(version "$d/grey-u16.tez") $(version "$d/rgb-u8.tez") $(version "$d/grey-u16-abs3.tez")"
tezip d "$d/grey-u16.tez" -o g.raw -F raw -q || exit 1
cmp grey.raw g.raw && echo "grey u16, two groups: exact"
tezip d "$d/rgb-u8.tez" -o r.raw -F raw -q || exit 1
cmp rgb.raw r.raw && echo "rgb u8: exact"
tezip d "$d/grey-u16.tez" -o part.raw -F raw -q --frames 3:6 || exit 1
cmp <(tail -c $((3 * 24 * 20 * 2)) grey.raw) part.raw && echo "frames 3:6 of version 2: exact"
tezip verify "$d/grey-u16-abs3.tez" --against grey.raw --shape 6,24,20 --dtype u16 --json | grep -o '"max_abs_error":[0-9.]*'
# Recompressing writes the current version (5), and that decodes to the same samples.
tezip c g.raw --shape 6,24,20 --dtype u16 -o new.tez -q || exit 1
echo "rewritten as version $(version new.tez)"
tezip d new.tez -o n.raw -F raw -q && cmp n.raw grey.raw && echo "current version copy: exact"
