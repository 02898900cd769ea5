# A step whose Slurm job is preempted (requeued by a job in a higher-priority
# partition) runs again once, under the same job id: wfrun waits for it and
# submits nothing twice.
here=$PWD
SCIFLOW_SLURM_PORT=6927 bash "$SCIFLOW_SRC/tests/slurm/cluster.sh" start "$here/slurm" > env.sh || exit 1
trap 'SCIFLOW_SLURM_PORT=6927 bash "$SCIFLOW_SRC/tests/slurm/cluster.sh" stop "$here/slurm"' EXIT
source env.sh
cpus=$(nproc)
mkdir wrap
printf '#!/bin/sh\necho x >> %s/sbatch.calls\nexec %s "$@"\n' "$here" "$(command -v sbatch)" > wrap/sbatch
chmod +x wrap/sbatch
cat > p.yaml <<YAML
steps:
  low:
    run: echo start >> attempts.txt; sleep 3; echo done > low.txt
    outputs: [low.txt]
    resources: {cpus: $cpus}
YAML
PATH=$here/wrap:$PATH wfrun run p.yaml --executor slurm --poll 0.3 -q &
pid=$!
for _ in $(seq 100); do [[ $(squeue -h -n wfrun:low -t R) ]] && break; sleep 0.1; done
job=$(squeue -h -n wfrun:low -o %i)
sleep 0.5
sbatch -Q -p high -c "$cpus" -o /dev/null --wrap 'sleep 1'
# Slurm holds a requeued job back for a while (its begin time moves ~2 min
# ahead); as an operator would, let it start as soon as the node is free.
for _ in $(seq 100); do [[ $(squeue -h -j "$job" -t PD -o %i) ]] && break; sleep 0.1; done
scontrol update JobId="$job" StartTime=now
wait $pid
echo "wfrun exit $?"
cat low.txt
echo "attempts: $(wc -l < attempts.txt)"
echo "sbatch calls by wfrun: $(wc -l < sbatch.calls)"
scontrol show job -o "$job" | grep -o 'Restarts=[0-9]*'
