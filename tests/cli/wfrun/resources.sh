# The local executor shares CPUs (-j) and memory (what the machine has
# available) among steps by their resources: two steps that each declare 60% of
# the memory run one after the other even with -j2; without that they overlap.
mem=$(awk '/MemAvailable/ { printf "%dM", $2 / 1024 * 0.6 }' /proc/meminfo)
cat > p.yaml <<'YAML'
params: {mem: 1M}
steps:
  a: {run: "date +%s.%N > a.start; sleep 0.6; date +%s.%N > a.end", resources: {mem: "${params.mem}"}}
  b: {run: "date +%s.%N > b.start; sleep 0.6; date +%s.%N > b.end", resources: {mem: "${params.mem}"}}
YAML
overlap() { python3 -c "
a0, a1, b0, b1 = (float(open(f).read()) for f in ('a.start', 'a.end', 'b.start', 'b.end'))
print('overlap' if a0 < b1 and b0 < a1 else 'one after the other')"; }
wfrun run p.yaml -j2 -q -p mem=1M || exit 1
overlap
rm -rf .wfrun  # resources are not part of the cache key: start afresh
wfrun run p.yaml -j2 -q -p mem="$mem" || exit 1
overlap
