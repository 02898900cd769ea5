# Every problem in a pipeline file is reported at once, with file:line:column;
# cycles are spelled out; nothing runs.
cat > inc.yaml <<'YAML'
steps:
  d:
    outputs: [x]
YAML
cat > bad.yaml <<'YAML'
include: inc.yaml
params: {n: 3}
steps:
  a:
    run: echo ${params.nn} > a.txt
    retires: 2
    needs: [b]
  b:
    needs: [c]
    run: "true"
  c:
    needs: [a, zz]
    run: "true"
  e:
    run: x
    timeout: soon
    when: "params.n >"
YAML
wfrun run bad.yaml
echo "exit $?"
ls a.txt 2>/dev/null || echo "nothing ran"
wfrun run bad.yaml -p nope=1 2>&1 | grep nope
printf 'steps:\n  a:\n    run: [oops\n' > syntax.yaml
wfrun run syntax.yaml
echo "exit $?"
