# when: conditions over parameters skip steps (which still count as done for the
# steps after them); a declared env var is part of the cache key; a step killed
# by SIGKILL is reported as killed (as the OOM killer's victims are).
cat > p.yaml <<'YAML'
params: {mode: lossless, bound: 0}
steps:
  lossy:
    when: "params.mode == 'lossy' and params.bound > 0"
    run: echo lossy ${params.bound} > lossy.txt
  after:
    needs: [lossy]
    run: echo "$GREETING" > after.txt
    env: {GREETING: hello}
    outputs: [after.txt]
YAML
wfrun run p.yaml -q || exit 1
ls lossy.txt 2>/dev/null || echo "lossy skipped"
cat after.txt
wfrun run p.yaml -n -p mode=lossy -p bound=2 | head -1
sed -i 's/GREETING: hello/GREETING: bonjour/' p.yaml
wfrun run p.yaml -n | grep after
wfrun run p.yaml -q && cat after.txt
printf 'steps:\n  victim:\n    run: kill -9 $$\n' > k.yaml
wfrun run k.yaml 2>&1 | head -1
