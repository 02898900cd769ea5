# The minimal form runs as written; a rerun has nothing to do; a changed input,
# parameter or command reruns exactly the steps it reaches, and --dry-run says why.
mkdir frames && for i in 1 2 3; do echo "frame $i" > frames/f$i.txt; done
cat > p.yaml <<'YAML'
params: {bound: 2}
steps:
  compress:
    run: cat frames/*.txt | sed 's/^/b${params.bound} /' > run.out
    inputs: [frames/*.txt]
    outputs: [run.out]
  push:
    needs: [compress]
    run: cp run.out pushed.out
  each:
    foreach: {glob: "frames/*.txt"}
    run: wc -c < ${item} > ${item}.wc
    inputs: ["${item}"]
    outputs: ["${item}.wc"]
  gather:
    run: cat ${step.each.outputs} > all.wc
    outputs: [all.wc]
YAML
wfrun run p.yaml -j2 -q || exit 1
cat pushed.out all.wc
wfrun run p.yaml -n
echo "frame 2 again" >> frames/f2.txt
wfrun run p.yaml -n
wfrun run p.yaml -n -p bound=5 | grep compress
wfrun run p.yaml -q -p bound=5 || exit 1
head -1 pushed.out
wfrun run p.yaml -n -p bound=5 | tail -1
rm run.out
wfrun run p.yaml -n -p bound=5 | grep -E '^would'
