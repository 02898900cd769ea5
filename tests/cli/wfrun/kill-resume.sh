# SIGKILL wfrun at random points (fixed seed): each rerun completes the pipeline
# and starts none of the steps that had finished before the kill; a second wfrun
# in the same directory is refused while one runs.
cat > p.yaml <<'YAML'
steps:
  s1: {run: "sleep 0.15; echo s1 >> trace; echo 1 > s1.out", outputs: [s1.out]}
  s2: {run: "sleep 0.15; cat s1.out > s2.out", inputs: [s1.out], outputs: [s2.out]}
  s3: {run: "sleep 0.15; cat s2.out > s3.out", inputs: [s2.out], outputs: [s3.out]}
  s4: {run: "sleep 0.15; echo 4 > s4.out", outputs: [s4.out]}
  s5: {run: "sleep 0.15; cat s3.out s4.out > s5.out", inputs: [s3.out, s4.out], outputs: [s5.out]}
  s6: {run: "sleep 0.15; cat s5.out > s6.out", inputs: [s5.out], outputs: [s6.out]}
YAML
ok_steps() {
  [[ -d .wfrun ]] || return 0
  wfrun status --json | python3 -c "import json,sys; print(' '.join(sorted(s['step'] for s in json.load(sys.stdin)['steps'] if s['status']=='ok')))"
}
RANDOM=7
bad=0
for trial in $(seq 1 8); do
  rm -rf .wfrun ./*.out trace
  wfrun run p.yaml -j1 -q &
  pid=$!
  sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  before=$(ok_steps)
  wfrun run p.yaml -j1 -q --json > events.jsonl || { echo "trial $trial: rerun failed"; bad=1; continue; }
  started=$(python3 -c "import json; print(' '.join(sorted({json.loads(l)['step'] for l in open('events.jsonl') if json.loads(l)['event']=='step_start'})))")
  for s in $before; do
    if [[ " $started " == *" $s "* ]]; then echo "trial $trial: $s finished before the kill but ran again"; bad=1; fi
  done
  [[ $(cat s6.out) == $'1\n4' ]] || { echo "trial $trial: wrong result"; bad=1; }
done
echo "kill trials done, problems: $bad"
# The lock.
rm -rf .wfrun ./*.out
wfrun run p.yaml -q &
# wait until the first wfrun holds the lock (it writes its pid into the lock file)
for _ in $(seq 100); do [[ -s .wfrun/lock ]] && break; sleep 0.05; done
wfrun run p.yaml 2>&1 | sed 's/pid [0-9]*/pid N/; s|'"$PWD"'|DIR|g'
wait
wfrun run p.yaml -n | tail -1
