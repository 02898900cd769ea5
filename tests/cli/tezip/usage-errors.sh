tezip c x.npy --abs 1 --rel 0.1; echo "exit $?"
tezip c x.raw --predictor magic; echo "exit $?"
make_frames write x.raw --shape 2,4,4 --dtype u8 || exit 1
tezip c x.raw -o x.tez; echo "exit $?"
tezip c - < x.raw > /dev/null; echo "exit $?"
