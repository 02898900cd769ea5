# The learned predictor end to end: train a small model (libtorch), compress with
# it, decode bit-exactly with 1 and several threads and through pipes; a missing,
# different or damaged model is a clear error that leaves no output; a model never
# makes the file meaningfully bigger than the classical predictors.
make_frames write a.npy --shape 12,70,90 --dtype u16 --noise 6 || exit 1
make_frames write b.npy --shape 8,70,90 --dtype u16 --noise 6 --seed 9 || exit 1
tezip train a.npy b.npy -o m.model --epochs 3 --steps 6 --batch 4 --patch 24 -j2 -q || exit 1
grep -q '"format":"sciflow-frame-net"' m.model && echo model written
python3 - m.model <<'PY' || exit 1
import json, sys
m = json.load(open(sys.argv[1]))
meta = m["meta"]
assert len(meta["loss"]) == 3, meta["loss"]
assert [i["frames"] for i in meta["inputs"]] == [12, 8]
assert meta["eval"]["l1_model"] > 0 and meta["eval"]["l1_previous_frame"] > 0
print("metadata: 3 epochs of loss, both inputs, evaluation")
PY
tezip train a.npy -o m.model -q 2>&1; echo "exists: exit $?"
tezip c a.npy -o plain.tez -q --group 6 || exit 1
tezip c a.npy -o learned.tez -q --group 6 --model m.model --json > c.json || exit 1
grep -o '"stripes":[0-9]*' c.json
p=$(stat -c %s plain.tez); l=$(stat -c %s learned.tez)
# Per stripe: the smaller of with and without the model, plus one bit; the header
# names the model (a longer JSON) and each record carries two more counts.
(( l <= p + 200 )) && echo "no bigger than classical (+ header)" || echo "bigger: $l > $p"
for j in 1 3; do tezip d learned.tez --model m.model -j $j -o - -F npy | cmp - a.npy || exit 1; done
echo decoded exactly with 1 and 3 threads
tezip c - --model m.model -q < a.npy | tezip d - --model m.model -F npy | cmp - a.npy && echo pipes exact
# The model in both tiers: a sixth block predictor in the fast tier (above), a
# fifth candidate and least-squares input, stripe by stripe, in the best tier.
tezip info learned.tez | grep '^tier' | cut -c13-16
tezip c a.npy -o best.tez -q --group 6 --model m.model --best || exit 1
tezip info best.tez | grep '^tier' | cut -c13-16
tezip d best.tez --model m.model -o - -F npy | cmp - a.npy && echo "best tier with the model: exact"
# The libtorch path (float64 on integer values: what --device cuda runs on a GPU)
# gives the same bytes as the integer kernel, compressing and decoding.
tezip d learned.tez --model m.model --device torch -o - -F npy | cmp - a.npy && echo "libtorch decode exact"
tezip c a.npy -o torch.tez -q --group 6 --model m.model --device torch || exit 1
end_of_groups() { od -An -t u8 -j $(( $(stat -c %s "$1") - 16 )) -N 8 "$1" | tr -d ' '; }
n=$(end_of_groups learned.tez)
[[ $n == $(end_of_groups torch.tez) ]] && cmp -n "$n" learned.tez torch.tez && echo "libtorch compress: same groups"
tezip verify learned.tez --model m.model --against a.npy | sed 's/^learned.tez: //'
tezip info learned.tez | grep -c '^model       sha256:'
tezip plan a.npy --model m.model --link 1Gbit/s --sample 6 | grep -c '^verdict'
tezip d learned.tez -o out.npy 2>&1 | sed 's/sha256:[0-9a-f]*/sha256:H/'; echo "no model: exit ${PIPESTATUS[0]}"
tezip train b.npy -o other.model --epochs 1 --steps 2 --batch 2 --patch 16 -q || exit 1
tezip d learned.tez -o out.npy --model other.model 2>&1 | sed 's/sha256:[0-9a-f]*/sha256:H/g'; echo "other model: exit ${PIPESTATUS[0]}"
head -c 300 m.model > cut.model
tezip d learned.tez -o out.npy --model cut.model 2>&1 | cut -c1-40; echo "damaged model: exit ${PIPESTATUS[0]}"
[[ ! -e out.npy ]] && echo no partial output
tezip c a.npy -o x.tez --model m.model --predictor lsq 2>&1; echo "forced predictor: exit $?"
