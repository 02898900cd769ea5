# A service starts before the steps that use it, is health-checked, and is
# stopped when they are done; a service that never gets ready fails the run.
cat > p.yaml <<'YAML'
services:
  beacon:
    run: "while true; do date +%s%N > beacon.alive; sleep 0.05; done"
    ready: test -f beacon.alive
    for: [use]
steps:
  use:
    run: test -f beacon.alive && echo served > used.txt
    outputs: [used.txt]
YAML
wfrun run p.yaml -q || exit 1
cat used.txt
a=$(cat beacon.alive); sleep 0.3; b=$(cat beacon.alive)
[[ $a == "$b" ]] && echo "service stopped" || echo "service still running"
grep -c '"event":"service_' .wfrun/last-run.jsonl
cat > never.yaml <<'YAML'
services:
  dud:
    run: sleep 30
    ready: "false"
    ready_timeout: 0.5s
steps:
  x:
    run: echo hi > x.txt
YAML
wfrun run never.yaml
echo "exit $?"
ls x.txt 2>/dev/null || echo "x did not run"
