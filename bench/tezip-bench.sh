#!/usr/bin/env bash
# tezip against its peers on the shared detector series, side by side on the same
# bytes. Prints compression ratios (raw array bytes / compressed bytes), speeds in
# MB/s of raw data per wall second, and tezip's ratio over the best peer. tezip's
# decompress is timed twice: to a file (with its fsync: the disk's time too) and,
# best of three, to /dev/null ("to null": the decoder's own speed).
#
#   bench/tezip-bench.sh [--data DIR] [--bin DIR] [--skip-slow]
#
# Peers run here: zstd -19, xz -9, FFV1 (ffmpeg), JPEG XL lossless (cjxl -d 0 -e 7).
# Install them with: apt-get install zstd xz-utils ffmpeg libjxl-tools
# SZ3 is not packaged for Debian 12; its figures are quoted from ../shared/docs/TARGETS.md.
# Every tezip lossless result is checked bit-exact, every lossy one against its bound.
# --skip-slow leaves out zstd -19, xz -9 and JPEG XL on sets above 100 MB (each takes
# several minutes there at ~1 MB/s).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=$here/../shared/data
bin=$here/build/bin
skip_slow=0
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --skip-slow) skip_slow=1; shift ;;
    *) echo "usage: $0 [--data DIR] [--bin DIR] [--skip-slow]" >&2; exit 2 ;;
  esac
done
tezip=$bin/tezip
work=$(mktemp -d "${TMPDIR:-/tmp}/tezip-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
rate() { awk -v a="$1" -v s="$2" 'BEGIN { printf "%.1f", a / s / 1e6 }'; }

echo "# tezip benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

run_set() {  # name input [extra tezip options...]
  local name=$1 input=$2; shift 2
  local d=$work/$name
  mkdir -p "$d"
  # The raw array every tool compresses (alpha dropped where the input has it).
  "$tezip" c "$input" -o "$d/ref.tez" -q "$@"
  "$tezip" d "$d/ref.tez" -o "$d/raw.bin" -F raw -q
  local raw; raw=$(stat -c %s "$d/raw.bin")
  local info; info=$("$tezip" info "$d/ref.tez" --json)
  local dtype frames h w c
  dtype=$(sed 's/.*"dtype":"\([a-z0-9]*\)".*/\1/' <<<"$info")
  frames=$(sed 's/.*"frames":\([0-9]*\).*/\1/' <<<"$info")
  h=$(sed 's/.*"height":\([0-9]*\).*/\1/' <<<"$info")
  w=$(sed 's/.*"width":\([0-9]*\).*/\1/' <<<"$info")
  c=$(sed 's/.*"channels":\([0-9]*\).*/\1/' <<<"$info")
  echo
  echo "## $name: $frames x $h x $w x $c $dtype, $raw raw bytes"
  printf '%-34s %9s %12s %12s %12s\n' tool ratio "comp MB/s" "decomp MB/s" "to null"

  local t0 t1 t2 size tez_fast tez_best
  for tier in fast best; do
    for j in 1 2; do
      t0=$(now); "$tezip" c "$d/raw.bin" --shape "$frames,$h,$w,$c" --dtype "$dtype" -o "$d/t.tez" -f -q -j$j --$tier; t1=$(now)
      "$tezip" d "$d/t.tez" -o "$d/back.bin" -F raw -f -q -j$j; t2=$(now)
      cmp -s "$d/raw.bin" "$d/back.bin" || { echo "tezip --$tier -j$j: NOT bit-exact" >&2; exit 1; }
      local comp_s dec_s
      comp_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
      dec_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')
      # Decompress again to /dev/null, best of three: the decoder without the disk
      # (the column before writes a file and waits for its fsync).
      local null_best=""
      for _ in 1 2 3; do
        t1=$(now); "$tezip" d "$d/t.tez" -o /dev/null -F raw -q -j$j; t2=$(now)
        null_best=$(awk -v a="$t1" -v b="$t2" -v m="$null_best" 'BEGIN { t = b - a; print (m == "" || t < m) ? t : m }')
      done
      size=$(stat -c %s "$d/t.tez")
      printf '%-34s %9s %12s %12s %12s\n' "tezip --$tier -j$j" "$(ratio "$raw" "$size")" \
        "$(rate "$raw" "$comp_s")" "$(rate "$raw" "$dec_s")" "$(rate "$raw" "$null_best")"
    done
    if [[ $tier == fast ]]; then tez_fast=$size; else tez_best=$size; fi
  done
  local best=0 best_name=""
  peer() {  # label size comp_seconds
    printf '%-34s %9s %12s\n' "$1" "$(ratio "$raw" "$2")" "$(rate "$raw" "$3")"
    if awk -v r="$(ratio "$raw" "$2")" -v b="$best" 'BEGIN { exit !(r > b) }'; then best=$(ratio "$raw" "$2"); best_name=$1; fi
  }
  local big=0
  [[ $skip_slow == 1 && $raw -gt 100000000 ]] && big=1
  if [[ $big == 0 ]]; then
    t0=$(now); zstd -19 -q -c "$d/raw.bin" > "$d/z"; t1=$(now); peer "zstd -19" "$(stat -c %s "$d/z")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
    t0=$(now); xz -9 -c "$d/raw.bin" > "$d/x"; t1=$(now); peer "xz -9" "$(stat -c %s "$d/x")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
  else
    echo "(zstd -19, xz -9: skipped with --skip-slow on sets above 100 MB; TARGETS.md has them)"
  fi
  if command -v ffmpeg > /dev/null; then
    local pix
    case "$dtype:$c" in u8:1) pix=gray ;; u8:3) pix=rgb24 ;; u16:1) pix=gray16le ;; *) pix= ;; esac
    if [[ -n $pix ]]; then
      t0=$(now)
      ffmpeg -v error -f rawvideo -pix_fmt $pix -s "${w}x${h}" -r 25 -i "$d/raw.bin" -c:v ffv1 -level 3 -slicecrc 0 -f nut -y "$d/v.nut"
      t1=$(now)
      ffmpeg -v error -i "$d/v.nut" -f rawvideo -pix_fmt $pix -y "$d/v.bin"
      cmp -s "$d/raw.bin" "$d/v.bin" || echo "  (FFV1 did not decode bit-exact)"
      peer "FFV1 (ffmpeg, level 3)" "$(stat -c %s "$d/v.nut")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
    fi
  fi
  if command -v cjxl > /dev/null && [[ $big == 0 ]]; then
    "$tezip" d "$d/ref.tez" -o "$d/png/" -q -f
    local total=0
    t0=$(now)
    for f in "$d"/png/*.png; do cjxl -d 0 -e 7 --quiet "$f" "$f.jxl" 2> /dev/null; total=$((total + $(stat -c %s "$f.jxl"))); done
    t1=$(now)
    peer "JPEG XL lossless (cjxl -e 7)" "$total" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
  fi
  echo "tezip --fast / best peer ($best_name): $(awk -v a="$(ratio "$raw" "$tez_fast")" -v b="$best" 'BEGIN { printf "%.3f", a / b }')"
  echo "tezip --best / best peer ($best_name): $(awk -v a="$(ratio "$raw" "$tez_best")" -v b="$best" 'BEGIN { printf "%.3f", a / b }')"
  echo "$name $raw $frames $h $w $c $dtype" > "$d/meta"
}

lossy() {  # name bound...  (on the raw array of run_set)
  local name=$1; shift
  local d=$work/$name
  read -r _ raw frames h w c dtype < "$d/meta"
  for e in "$@"; do
    for tier in fast best; do
      "$tezip" c "$d/raw.bin" --shape "$frames,$h,$w,$c" --dtype "$dtype" -o "$d/l.tez" -f -q --abs "$e" --$tier
      local v; v=$("$tezip" verify "$d/l.tez" --against "$d/raw.bin" --shape "$frames,$h,$w,$c" --dtype "$dtype" --json)
      printf '%-16s --%-4s abs %-5s ratio %8s  max error %s  PSNR %s\n' "$name" "$tier" "$e" "$(ratio "$raw" "$(stat -c %s "$d/l.tez")")" \
        "$(sed 's/.*"max_abs_error":\([0-9.e+-]*\).*/\1/' <<<"$v")" "$(sed 's/.*"psnr_db":\([0-9.]*\).*/\1/' <<<"$v")"
    done
  done
}

run_set bright-field "$data/trackpy-brightfield"
run_set bulk-water "$data/trackpy-bulk-water" --drop-alpha
run_set k11 "$data/diamond-k11-diad-projections/k11-18014.nxs"
mkdir -p "$work/k11-projections"
"$tezip" d "$work/k11/ref.tez" --frames 100:3101 -F raw -o "$work/k11-projections/raw.bin" -q
echo "k11-projections $(stat -c %s "$work/k11-projections/raw.bin") 3001 22 26 1 u16" > "$work/k11-projections/meta"

echo
echo "## error-bounded (SZ3 best, from TARGETS.md: bright-field 3.45/5.46/12.13 at e=1/2/4;"
echo "##   bulk-water 7.01/14.90/43.73; K11 all frames 3.00/7.44 at e=30/300)"
lossy bright-field 1 2 4
lossy bulk-water 1 2 4
lossy k11 30 300
lossy k11-projections 30 300
