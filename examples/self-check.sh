#!/usr/bin/env bash
# Logs, as JSON lines, the version of each sciflow tool and whether this build's
# libraries work on this host. Suitable for cron on an acquisition host:
#   */30 * * * * /opt/sciflow/examples/self-check.sh >> /var/log/sciflow-check.jsonl
set -euo pipefail
bin=${SCIFLOW_BIN:-$(dirname "$0")/../build/bin}
for t in tezip dxfer vindex trainctl servectl wfrun; do
  "$bin/$t" --version --json
done
"$bin/tezip" --self-check --json
