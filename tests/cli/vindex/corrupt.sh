# A damaged or truncated index file is detected and named; nothing is searched.
printf '{"vector":[1,2,3]}\n{"vector":[2,3,4]}\n{"vector":[0,1,0]}\n' > v.jsonl
vindex build v.jsonl -o idx --engine flat || exit 1
cp -r idx good
f=$(ls idx/engine-*)
printf '\x01' | dd of="$f" bs=1 seek=60 conv=notrunc status=none
vindex search idx v.jsonl -k 1 > /dev/null
echo "flipped byte: exit $?"
rm -rf idx; cp -r good idx
truncate -s -8 idx/ids-1.i64
vindex info idx > /dev/null
echo "truncated ids: exit $?"
rm -rf idx; cp -r good idx
rm idx/engine-*
vindex info idx > /dev/null
echo "missing engine: exit $?"
rm -rf idx; cp -r good idx
echo '{"format":"sciflow-vindex","version":99}' > idx/manifest.json
vindex info idx > /dev/null
echo "future version: exit $?"
vindex info good > /dev/null && echo "untouched copy: ok"
