# dxfer to Globus (globus://), against a stand-in for the Transfer API that
# replays documented responses (tests/cli/dxfer/globus/README.md: no Globus
# service can run here). Checks what dxfer submits (endpoints, paths, recursive,
# checksum verification, sync levels), that it follows the task to SUCCEEDED,
# FAILED (exit 1, the fatal error named) and INACTIVE (exit 1, resumable),
# retries a 503, refuses a bad token with Globus's message, exits 3 when a sync
# moved nothing, and that a dxfer killed while waiting follows the same task
# when run again instead of submitting a second one.
export HOME=$PWD/home XDG_STATE_HOME=
mkdir -p "$HOME"
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-net.bash"
self_signed_cert . || exit 1
echo "test-token-123" > token
echo ok > scenario
python3 "$SCIFLOW_SRC/tests/cli/dxfer/globus-replay.py" "$SCIFLOW_SRC/tests/cli/dxfer/globus" cert.pem key.pem \
  test-token-123 scenario api.log port &
replay=$!
trap 'kill $replay 2>/dev/null' EXIT
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
export DXFER_GLOBUS_API=https://127.0.0.1:$(cat port)/v0.10
mkdir -p data/sub && echo a > data/a.txt && echo b > data/sub/b.txt && echo c > c.txt
SRC=11111111-2222-3333-4444-555555555555 DST=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
G=(--cacert cert.pem --token-file token --globus-source $SRC --poll 0.05)
dxfer push data c.txt "globus://$DST/project/runs/" "${G[@]}" --json; echo "push exit $?"
grep -v '^{' api.log
grep '^{' api.log | python3 -c "
import json, os, sys
r = json.loads(sys.stdin.readline())
cwd = os.getcwd()
print(r['DATA_TYPE'], r['source_endpoint'], r['destination_endpoint'], 'verify_checksum', r['verify_checksum'],
      'sync_level' in r, r['submission_id'])
for i in r['DATA']:
    print(' ', i['source_path'].replace(cwd, 'CWD'), '->', i['destination_path'], 'recursive' if i['recursive'] else 'file')"
ls "$HOME/.local/state/dxfer/globus" | wc -l
: > api.log; echo nothing > scenario
dxfer sync data "globus://$DST/project/runs/" "${G[@]}" --checksum -q; echo "sync exit $?"
grep '^{' api.log | python3 -c "import json, sys; print('sync_level', json.loads(sys.stdin.readline())['sync_level'])"
echo fail > scenario
dxfer push data "globus://$DST/project/runs/" "${G[@]}" 2>&1; echo "failed task exit $?"
echo inactive > scenario
dxfer push c.txt "globus://$DST/project/runs/" "${G[@]}" 2>&1; echo "inactive exit $?"
echo flaky > scenario
dxfer push c.txt "globus://$DST/project/runs/" "${G[@]}" -q; echo "after a 503 exit $?"
: > api.log; echo slow > scenario
dxfer push data "globus://$DST/project/other/" "${G[@]}" -q &
pid=$!
for _ in $(seq 200); do grep -q '^GET /v0.10/task/' api.log && break; sleep 0.05; done
kill -9 $pid; wait $pid 2>/dev/null
echo ok > scenario
dxfer push data "globus://$DST/project/other/" "${G[@]}" --json | python3 -c "
import json, sys; r = json.loads(sys.stdin.read()); print('rerun', r['status'], 'resumed' if r['resumed'] else 'new task')"
echo "submissions: $(grep -c '^POST /v0.10/transfer' api.log)"
echo wrong > token
dxfer push c.txt "globus://$DST/project/runs/" "${G[@]}" 2>&1; echo "bad token exit $?"
dxfer push c.txt "globus://$DST/project/runs/" --cacert cert.pem --token-file token 2>&1 | cut -c1-60; echo "no source collection exit ${PIPESTATUS[0]}"
# One dxfer at a time per remote destination (cron runs that overlap).
lock=$HOME/.local/state/dxfer/locks/$(printf %s "globus://$DST/project/runs/" | sha256sum | cut -c1-32).lock
flock "$lock" sleep 1.5 &
holder=$!
sleep 0.3
dxfer push c.txt "globus://$DST/project/runs/" "${G[@]}" 2>&1 | sed "s|$HOME|HOME|"; echo "locked exit ${PIPESTATUS[0]}"
wait $holder
