# Real detector data (tests/data/README.md): lossless, bit-exact, and smaller than zstd -19.
in=$SCIFLOW_SRC/tests/data/k11-projections-128.h5
tezip c $in -o k.tez -q || exit 1
tezip verify k.tez --against $in | sed 's/^[^:]*: //'
tezip d k.tez -o k.raw -q -F raw || exit 1
zst=$(zstd -19 -c -q k.raw | wc -c)
[[ $(stat -c %s k.tez) -lt $zst ]] && echo smaller than zstd -19
tezip info k.tez --json | grep -o '"dtype":"u16","frames":128,"height":22,"width":26'
# The best tier, whose fits average the drift's noise over 8 frames back (format
# version 7; this sample codes 1-4% smaller with them than with version 6's two).
tezip c $in -o b.tez -q --best || exit 1
tezip verify b.tez --against $in | sed 's/^[^:]*: //'
[[ $(stat -c %s b.tez) -lt $(stat -c %s k.tez) ]] && echo best tier smaller than fast
deep=$(tezip info b.tez --json | grep -o '"planes_seeing_8_frames_back":[0-9]*' | cut -d: -f2)
(( deep > 64 )) && echo "best tier: most of the 128 planes predicted from 8 frames back"
tezip c $in -o l.tez -q --abs 300 || exit 1
tezip verify l.tez --against $in --json | grep -o '"max_abs_error":[0-9.]*'
