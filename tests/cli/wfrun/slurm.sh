# The Slurm executor against a real one-node Slurm (tests/slurm/cluster.sh):
# a 60-way scatter goes out as one job array, jobs are followed by one squeue
# call per poll interval, failures name the Slurm job and are retried, and
# Ctrl-C cancels the jobs in flight.
here=$PWD
bash "$SCIFLOW_SRC/tests/slurm/cluster.sh" start "$here/slurm" > env.sh || exit 1
trap 'bash "$SCIFLOW_SRC/tests/slurm/cluster.sh" stop "$here/slurm"' EXIT
source env.sh
# sbatch and squeue are the real ones, called through wrappers that count the calls.
mkdir wrap
for t in sbatch squeue; do
  printf '#!/bin/sh\necho "$(date +%%s.%%N)" >> %s/%s.calls\nexec %s "$@"\n' "$here" "$t" "$(command -v $t)" > wrap/$t
  chmod +x wrap/$t
done
export PATH=$here/wrap:$PATH
python3 - <<'PY'
with open("p.yaml", "w") as f:
    f.write("steps:\n  part:\n    foreach: [" + ", ".join(str(i) for i in range(60)) + "]\n")
    f.write("    run: echo ${item} > part-${item}.txt\n    outputs: [\"part-${item}.txt\"]\n")
    f.write("  sum:\n    run: cat ${step.part.outputs} | wc -l > sum.txt\n    outputs: [sum.txt]\n")
PY
start=$(date +%s.%N)
wfrun run p.yaml --executor slurm --poll 0.5 -q || { tail -20 slurm/log/slurmctld.log; exit 1; }
end=$(date +%s.%N)
cat sum.txt
echo "sbatch calls: $(wc -l < sbatch.calls)"
python3 - "$start" "$end" <<'PY'
import sys
start, end = float(sys.argv[1]), float(sys.argv[2])
calls = [float(l) for l in open("squeue.calls")]
# at most one squeue per 0.5 s poll interval (with a little slack for timer jitter)
gaps = [b - a for a, b in zip(calls, calls[1:])]
print("squeue calls within the poll interval:", "ok" if all(g >= 0.45 for g in gaps) and len(calls) <= (end - start) / 0.5 + 2 else f"too many {len(calls)} {min(gaps) if gaps else 0}")
PY
wfrun run p.yaml --executor slurm -n | tail -1
# A failing step names its Slurm job and is retried.
cat > f.yaml <<'YAML'
steps:
  flaky:
    run: test -f ok.flag || { touch ok.flag; exit 3; }
    retries: {count: 1, backoff: 0.1s}
  broken:
    run: echo broken >&2; exit 5
YAML
wfrun run f.yaml --executor slurm --poll 0.3 -k 2> err.txt
echo "exit $?"
grep -o 'flaky: attempt 1 exited with code 3 (Slurm job [0-9]*)' err.txt | sed 's/job [0-9]*/job N/'
grep -o 'broken: failed: exited with code 5 (Slurm job [0-9]*)' err.txt | sed 's/job [0-9]*/job N/'
wfrun log broken | grep -x broken
# Ctrl-C: the job in flight is cancelled.
printf 'steps:\n  long:\n    run: sleep 120\n' > long.yaml
wfrun run long.yaml --executor slurm --poll 0.3 -q 2> int.txt &
pid=$!
for _ in $(seq 50); do [[ -n $(squeue -h -n wfrun:long) ]] && break; sleep 0.2; done
kill -INT $pid
wait $pid
echo "interrupted: exit $?"
sed 's/job [0-9][0-9]*/job N/' int.txt
for _ in $(seq 50); do [[ -z $(squeue -h -n wfrun:long -t PD,R,CG) ]] && break; sleep 0.2; done
[[ -z $(squeue -h -n wfrun:long -t PD,R,CG) ]] && echo "job cancelled" || echo "job still queued"
