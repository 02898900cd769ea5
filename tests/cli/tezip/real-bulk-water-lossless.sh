# Real microscopy video (tests/data/README.md), lossless. Its frames were decoded from
# video with 4:2:0 chroma: R - G and B - G are the same over each 2x2 pixels. tezip
# codes R and B as differences from G where that is smaller (format version 7 for best, 5 for fast; named
# in `tezip info`), exactly: ratios above 8.5 (fast) and 9.0 (best); 9.54 and 10.19
# now, 7.42 for the shipped file written without it.
tezip d $SCIFLOW_SRC/tests/data/bulk-water-crop.tez -o crop.raw -F raw -q || exit 1
raw=$(stat -c %s crop.raw)
version() { od -An -t u2 -j 8 -N 2 "$1" | tr -d ' '; }
for t in fast:85 best:90; do
  tier=${t%:*} min=${t#*:}
  tezip c crop.raw --shape 20,64,64,3 --dtype u8 --$tier -o $tier.tez -q || exit 1
  tezip d $tier.tez -o back.raw -F raw -q -f && cmp back.raw crop.raw && echo "$tier: exact, format version $(version $tier.tez)"
  tezip info $tier.tez | grep '^colour'
  tezip info $tier.tez --json | grep -o '"colour_transform[a-z_]*":[^,]*'
  size=$(stat -c %s $tier.tez)
  if (( 10 * raw > min * size )); then echo "$tier: ratio above $min/10"; else echo "$tier: ratio $raw/$size is not above $min/10"; fi
done
# Through pipes (the compressor decides on the first group it reads).
tezip c - --shape 20,64,64,3 --dtype u8 -o - < crop.raw | tezip d - -F raw -o - | cmp - crop.raw && echo "pipe: exact"
# Lossy keeps the channels (a bound on differences would not bound the channels).
tezip c crop.raw --shape 20,64,64,3 --dtype u8 --abs 2 -o lossy.tez -q || exit 1
echo "lossy: format version $(version lossy.tez)"
tezip verify lossy.tez --against crop.raw --shape 20,64,64,3 --dtype u8 --json | grep -o '"max_abs_error":[0-9.]*'
