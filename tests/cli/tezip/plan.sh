# plan measures a sample and gives a verdict; a bad link rate is a usage error.
in=$SCIFLOW_SRC/tests/data/k11-projections-128.h5
tezip plan $in --link 1Mbit/s --sample 64 --json | grep -o '"sample_frames":64\|"compress_before_sending":true'
tezip plan $in --link fast
