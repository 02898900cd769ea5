# Retries with backoff, timeouts, failures reported as such; -k keeps going with
# what does not depend on a failure; wfrun log shows the stderr and a command
# that reproduces the step; exit status 1.
cat > f.yaml <<'YAML'
steps:
  flaky:
    run: test -f ok.flag || { touch ok.flag; echo first try fails >&2; exit 3; }
    retries: {count: 2, backoff: 0.1s}
  slow:
    run: sleep 5
    timeout: 0.5s
  bad:
    run: echo doomed >&2; exit 4
  after:
    needs: [bad]
    run: echo never > never.txt
  independent:
    run: echo fine > fine.txt
    outputs: [fine.txt]
  liar:
    run: "true"
    outputs: [promised.txt]
YAML
wfrun run f.yaml -k -j2 2> err.txt
echo "exit $?"
grep -c 'retrying in 0.1 s' err.txt
grep -o 'slow: timeout: timed out after 0.5' err.txt
grep -o 'bad: failed: exited with code 4' err.txt
grep -o 'after: blocked' err.txt
grep -o 'liar: failed: exited 0 but did not write its declared output promised.txt' err.txt
ls never.txt 2>/dev/null || echo "after did not run"
cat fine.txt
wfrun report -o report.html || exit 1
grep -c '<rect' report.html
grep -o 'status <b>failed</b>' report.html
grep -o '<td style="color:#ef6c00">timeout</td>' report.html
wfrun log bad | sed "s|$PWD|DIR|; s|^run      .*|run      RUN|"
wfrun status --json | python3 -c "
import json, sys
st = {s['step']: s['status'] for s in json.load(sys.stdin)['steps']}
print(' '.join(f'{k}={st[k]}' for k in sorted(st)))"
# Without -k the first failure stops the run.
wfrun run f.yaml -q 2>/dev/null
echo "exit $?"
# A command that starts with a shell builtin or keyword goes to /bin/sh, as with
# make: 'exit 5' fails with code 5, 'cd sub' changes directory for that step.
mkdir -p sub
cat > b.yaml <<'YAML'
steps:
  quits:
    run: exit 5
  moves:
    run: cd sub
YAML
wfrun run b.yaml -k -q 2>&1 | grep -o 'quits: failed: exited with code 5'
wfrun status --json | python3 -c "
import json, sys
print(' '.join(f\"{s['step']}={s['status']}\" for s in sorted(json.load(sys.stdin)['steps'], key=lambda s: s['step'])))"
