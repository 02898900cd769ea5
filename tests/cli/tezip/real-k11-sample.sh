# Real detector data (tests/data/README.md): lossless, bit-exact, and smaller than zstd -19.
in=$SCIFLOW_SRC/tests/data/k11-projections-128.h5
tezip c $in -o k.tez -q || exit 1
tezip verify k.tez --against $in | sed 's/^[^:]*: //'
tezip d k.tez -o k.raw -q -F raw || exit 1
zst=$(zstd -19 -c -q k.raw | wc -c)
[[ $(stat -c %s k.tez) -lt $zst ]] && echo smaller than zstd -19
tezip info k.tez --json | grep -o '"dtype":"u16","frames":128,"height":22,"width":26'
