#!/usr/bin/env bash
# tezip's learned predictor (tezip train / --model) against the classical
# predictors on the shared detector series: ratio gain lossless and at the lossy
# bounds of TARGETS.md, held out (trained on the first half of a series,
# compressing the second half) and in-sample (trained on the whole series),
# training time, and throughput with and without the model on 512x512 u16 frames.
#
#   bench/tezip-learned-bench.sh [--data DIR] [--bin DIR] [--epochs N] [--bulk-frames N]
#
# Every learned lossless result is checked bit-exact, every lossy one against its bound.
# bulk-water uses its first --bulk-frames frames (default 100) to keep the run short.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=$here/../shared/data
bin=$here/build/bin
epochs=20
bulk_frames=100
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --bulk-frames) bulk_frames=$2; shift 2 ;;
    *) echo "usage: $0 [--data DIR] [--bin DIR] [--epochs N] [--bulk-frames N]" >&2; exit 2 ;;
  esac
done
tezip=$bin/tezip
work=$(mktemp -d "${TMPDIR:-/tmp}/tezip-learned.XXXXXX")
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
rate() { awk -v a="$1" -v s="$2" 'BEGIN { printf "%.1f", a / s / 1e6 }'; }
raw_bytes() { "$tezip" info "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["raw_bytes"])'; }

echo "# tezip learned predictor benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# training: --epochs $epochs (64 steps of 16 patches of 48x48 each), -j$(nproc)"

# compare NAME INPUT.npy MODEL [--abs E]: prints classical and learned ratios and the
# gain, in both tiers. "model use": stripes coded with it (best tier), or the share
# of blocks that chose it (fast tier).
compare() {
  local tier
  for tier in fast best; do compare_tier "$tier" "$@"; done
}
compare_tier() {
  local tier=$1 name=$2 input=$3 model=$4; shift 4
  local d=$work/cmp
  rm -rf "$d"; mkdir -p "$d"
  "$tezip" c "$input" -o "$d/c.tez" -q --$tier "$@"
  "$tezip" c "$input" -o "$d/l.tez" -q --$tier --model "$model" "$@"
  local raw c l used
  raw=$(raw_bytes "$d/c.tez"); c=$(stat -c %s "$d/c.tez"); l=$(stat -c %s "$d/l.tez")
  used=$("$tezip" info "$d/l.tez" --json | python3 -c '
import json,sys
j=json.load(sys.stdin)
print("%d/%d stripes" % (j["stripes_using_model"], j["stripes"]) if "stripes_using_model" in j else "%.0f%% blocks" % (100 * j["predictor_use"]["learned"]))')
  if (($# == 0)); then
    "$tezip" d "$d/l.tez" --model "$model" -F npy -o - | cmp -s - "$input" || { echo "FAIL: $name learned not bit-exact"; exit 1; }
    check=exact
  else
    local bound=$2 err
    err=$("$tezip" verify "$d/l.tez" --model "$model" --against "$input" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_abs_error"])')
    awk -v e="$err" -v b="$bound" 'BEGIN { exit !(e <= b) }' || { echo "FAIL: $name max error $err > $bound"; exit 1; }
    check="max|err| $err"
  fi
  printf "%-34s %-6s classical %7s  learned %7s  gain %6s  model use %-12s %s\n" "$name ${*:-lossless}" "--$tier" \
    "$(ratio "$raw" "$c")" "$(ratio "$raw" "$l")" "$(ratio "$c" "$l")" "$used" "$check"
}

run_set() {  # name input frames-limit bounds... [-- extra options]
  local name=$1 input=$2 limit=$3; shift 3
  local bounds=() extra=()
  while (($#)) && [[ $1 != -- ]]; do bounds+=("$1"); shift; done
  (($#)) && shift && extra=("$@")
  local d=$work/$name
  mkdir -p "$d"
  "$tezip" c "$input" -o "$d/ref.tez" -q "${extra[@]}"
  local n
  n=$("$tezip" info "$d/ref.tez" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["frames"])')
  ((limit > 0 && limit < n)) && n=$limit
  local half=$((n / 2))
  "$tezip" d "$d/ref.tez" --frames 0:$n -F npy -o "$d/all.npy" -q
  "$tezip" d "$d/ref.tez" --frames 0:$half -F npy -o "$d/train.npy" -q
  "$tezip" d "$d/ref.tez" --frames $half:$n -F npy -o "$d/test.npy" -q
  echo "## $name: $n frames (train on 0-$((half - 1)), test on $half-$((n - 1)))"
  local t0 t1
  t0=$(now)
  "$tezip" train "$d/train.npy" -o "$d/held.model" --epochs "$epochs" -q
  t1=$(now)
  echo "training (first half): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; $(python3 -c "import json; m=json.load(open('$d/held.model'))['meta']; print(f\"loss {m['loss'][0]:.4f} -> {m['loss'][-1]:.4f}; mean |error| model {m['eval']['l1_model']:.3f} vs previous frame {m['eval']['l1_previous_frame']:.3f}\")")"
  "$tezip" train "$d/all.npy" -o "$d/all.model" --epochs "$epochs" -q
  compare "$name held-out" "$d/test.npy" "$d/held.model"
  compare "$name in-sample" "$d/all.npy" "$d/all.model"
  for e in "${bounds[@]}"; do compare "$name held-out" "$d/test.npy" "$d/held.model" --abs "$e"; done
}

run_set bright-field "$data/trackpy-brightfield" 0 1 2 4
run_set bulk-water "$data/trackpy-bulk-water" "$bulk_frames" 1 2 4 -- --drop-alpha
run_set k11 "$data/diamond-k11-diad-projections/k11-18014.nxs" 0 30 300

echo "## throughput, one thread, 32 synthetic 512x512 u16 frames (make_frames, noise sigma 20)"
d=$work/speed
mkdir -p "$d"
"$bin/make_frames" write "$d/s.npy" --shape 32,512,512 --dtype u16 --noise 20
"$tezip" train "$d/s.npy" -o "$d/s.model" --epochs 5 -q
bytes=$((32 * 512 * 512 * 2))
for variant in "fast classical" "fast learned" "best classical" "best learned"; do
  read -r tier kind <<<"$variant"
  opt=(--$tier); [[ $kind == learned ]] && opt+=(--model "$d/s.model")
  variant=$tier-$kind
  t0=$(now); "$tezip" c "$d/s.npy" -o "$d/$variant.tez" -q -j1 "${opt[@]}"; t1=$(now)
  dopt=(); [[ $kind == learned ]] && dopt=(--model "$d/s.model")
  "$tezip" d "$d/$variant.tez" -o "$d/$variant.npy" -q -j1 "${dopt[@]}"; t2=$(now)
  cmp -s "$d/$variant.npy" "$d/s.npy" || { echo "FAIL: $variant not exact"; exit 1; }
  printf "%-15s compress %6s MB/s  decompress %6s MB/s  ratio %s\n" "$variant" \
    "$(rate $bytes "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")" \
    "$(rate $bytes "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')")" "$(ratio $bytes "$(stat -c %s "$d/$variant.tez")")"
done
