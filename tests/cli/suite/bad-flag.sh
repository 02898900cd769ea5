# A broken flag: exit 2, one line on stderr, nothing on stdout.
tezip --frobnicate
