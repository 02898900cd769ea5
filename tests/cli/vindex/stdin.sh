# JSONL vectors from stdin (build, add, search), ids to delete from a file, and
# cosine / inner-product metrics with similarities reported largest first.
printf '{"id":10,"vector":[1,0]}\n{"id":11,"vector":[0,1]}\n{"id":12,"vector":[3,3]}\n' | vindex build - -o idx --metric cosine || exit 1
printf '{"id":13,"vector":[-1,0]}\n' | vindex add idx - || exit 1
printf '{"id":1,"vector":[2,0.1]}\n' | vindex search idx - -k 4
printf '11\n\n13\n' > del.txt
vindex delete idx --ids-from del.txt || exit 1
printf '{"id":1,"vector":[2,0.1]}\n' | vindex search idx - -k 4
printf '{"id":10,"vector":[1,0]}\n{"id":12,"vector":[3,3]}\n' | vindex build - -o ip --metric ip --engine flat || exit 1
printf '{"vector":[1,1]}\n' | vindex search ip - -k 2
printf 'x\n' > bad.txt
vindex delete idx --ids-from bad.txt
echo "exit $?"
