# The htslib-style round trip through real pipes: tezip c - | tezip d - | cmp.
make_frames write a.npy --shape 12,33,41 --dtype u16 --noise 40 || exit 1
tezip c - < a.npy | tezip d - | cmp - a.npy && echo identical
