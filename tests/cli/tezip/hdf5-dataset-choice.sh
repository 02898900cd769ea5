# With two frame datasets the file needs FILE:/path; a missing one is named.
make_frames write one.h5 --shape 4,8,8 --dtype u8 --dataset /a || exit 1
h5copy -i one.h5 -o two.h5 -s /a -d /a && h5copy -i one.h5 -o two.h5 -s /a -d /b || exit 1
tezip c two.h5 -o x.tez && echo unexpected
tezip c two.h5:/b -o x.tez && echo chosen
tezip c two.h5:/nope -o y.tez
ls y.tez 2>/dev/null
true
