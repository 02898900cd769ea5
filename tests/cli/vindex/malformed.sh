# Malformed vector files name the line or record; dimension mismatches stop before any work.
printf '{"vector":[1,2,3]}\n{"vector":[2,3,4]}\n{"vector":[0,1]}\n' > short.jsonl
vindex build short.jsonl -o idx1
echo "exit $?"
printf '{"vector":[1,2,3]}\n{"vector":[2,3,oops]}\n' > bad.jsonl
vindex build bad.jsonl -o idx2 2>&1 | cut -d' ' -f1-5
printf '{"vector":[1,2,3], "id": "x7"}\n' > strid.jsonl
vindex build strid.jsonl -o idx3
echo "exit $?"
# 1e39 is a finite JSON number but no 32-bit float: refused, not stored as inf.
printf '{"vector":[1,2,3]}\n{"vector":[1e39,2,3]}\n' > huge.jsonl
vindex build huge.jsonl -o idx6
echo "exit $?"
python3 -c "
import struct
with open('t.fvecs','wb') as f:
    for i in range(3): f.write(struct.pack('<i4f', 4, 1, 2, 3, i))
    f.write(struct.pack('<i2f', 4, 1, 2))
"
vindex build t.fvecs -o idx4
echo "exit $?"
head -c 40 t.fvecs > ok.fvecs
vindex build ok.fvecs -o idx5 --engine flat || exit 1
printf '{"vector":[1,2,3]}\n' > q3.jsonl
vindex search idx5 q3.jsonl
echo "exit $?"
vindex add idx5 q3.jsonl
echo "exit $?"
ls -d idx* | tr '\n' ' '; echo
